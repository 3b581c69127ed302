from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Generation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("value", models.BigIntegerField(help_text="Nanoseconds since the epoch at the last change.")),
                ("due", models.BigIntegerField(default=0, help_text="When the next change without a save is due (ns; 0: none).")),
            ],
        ),
    ]
