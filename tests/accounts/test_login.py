"""Logging in: lockout after repeated failures (django-axes) and password rules."""

import json
from pathlib import Path

import pytest
import yaml
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.config.test_settings import PROD_ENV, manage
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "correct horse battery staple"


def attempt(client, username, password, ip="203.0.113.7", **headers):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
        **headers,
    )


@pytest.fixture
def behind_compose_proxy(settings):
    """The client-address settings that config.settings.prod computes from docker-compose.yml's
    environment for the web service (the values interpolated from the host left out)."""
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
    env = {
        name: str(value)
        for name, value in compose["x-web"]["environment"].items()
        if "${" not in str(value)
    }
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
        "for k in dir(s) if 'PROXY' in k or 'CLIENT_IP' in k}))"
    )
    result = manage("shell", "--no-imports", "-c", script, env=PROD_ENV | env)
    assert result.returncode == 0, result.stderr
    for name, value in json.loads(result.stdout).items():
        setattr(settings, name, tuple(value) if isinstance(value, list) else value)


def test_a_wrong_password_shows_the_login_form_again(client):
    StaffFactory(username="author")
    response = attempt(client, "author", "wrong")
    assert response.status_code == 200
    assert "errornote" in response.content.decode()


def test_repeated_failed_logins_lock_out_even_the_right_password(client, settings):
    StaffFactory(username="author")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "author", "wrong").status_code == 200
    locked = attempt(client, "author", "wrong")
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "登录失败次数过多" in html and "15 分钟" in html
    assert "wrong" not in html

    again = attempt(client, "author", GOOD_PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username="author").failures_since_start >= 5


def test_lockout_is_per_address_so_the_author_can_still_log_in_elsewhere(client, settings):
    StaffFactory(username="author")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "author", "wrong", ip="203.0.113.7")
    assert attempt(client, "author", GOOD_PASSWORD, ip="203.0.113.7").status_code == 429
    home = attempt(client, "author", GOOD_PASSWORD, ip="198.51.100.20")
    assert home.status_code == 302
    assert home["Location"] == reverse("admin:index")


def test_behind_the_compose_proxy_one_clients_failures_do_not_lock_out_another(
    client, behind_compose_proxy, settings
):
    StaffFactory(username="author")
    nginx = "172.18.0.5"  # every request reaches gunicorn from the proxy
    client_a = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    # Client B even writes its own X-Forwarded-For: nginx appends the real address after it.
    client_b = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.20"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "author", "wrong", ip=nginx, **client_a)
    assert attempt(client, "author", GOOD_PASSWORD, ip=nginx, **client_a).status_code == 429
    home = attempt(client, "author", GOOD_PASSWORD, ip=nginx, **client_b)
    assert home.status_code == 302
    assert home["Location"] == reverse("admin:index")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"


def test_without_a_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(client, settings):
    StaffFactory(username="author")
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "author", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    forged = {"HTTP_X_FORWARDED_FOR": "198.51.100.99"}
    assert attempt(client, "author", GOOD_PASSWORD, **forged).status_code == 429


def test_trying_many_usernames_from_one_address_locks_that_address(client, settings):
    StaffFactory(username="author")
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"guess{n}", "123456")
    assert attempt(client, "author", GOOD_PASSWORD).status_code == 429
    assert attempt(client, "author", GOOD_PASSWORD, ip="198.51.100.20").status_code == 302


def test_a_successful_login_resets_the_failure_count(client, settings):
    StaffFactory(username="author")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "author", "wrong")
    assert attempt(client, "author", GOOD_PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "author", "wrong").status_code == 200


def test_lockout_expires_after_the_cool_off(client, settings, time_machine):
    StaffFactory(username="author")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "author", "wrong")
    assert attempt(client, "author", GOOD_PASSWORD).status_code == 429
    time_machine.move_to(timezone.now() + settings.AXES_COOLOFF_TIME * 1.1)
    assert attempt(client, "author", GOOD_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "password",
    ["12345678", "password", "short1", "19491001", "editor2024"],
)
def test_weak_passwords_are_refused(password):
    user = User(username="editor", email="editor@example.org")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_strong_password_is_accepted():
    validate_password(GOOD_PASSWORD, User(username="editor"))


def test_the_admin_user_form_refuses_a_weak_password(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newauthor",
            "usable_password": "true",
            "password1": "12345678",
            "password2": "12345678",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html
    assert not User.objects.filter(username="newauthor").exists()

    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newauthor",
            "usable_password": "true",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="newauthor").check_password(GOOD_PASSWORD)
