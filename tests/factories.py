from datetime import timedelta

import factory
from django.http import HttpResponse
from django.utils import timezone

from accounts.models import User
from blog.comments.workflow import TRUST_COOKIE, TRUST_COOKIE_SALT
from blog.models import Authorship, Category, Comment, Post, Series, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = "苏剑林"
    latin_name = "Su, Jianlin"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"分类{n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag{n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class SeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Series

    title = factory.Sequence(lambda n: f"Transformer升级之路{n}")
    slug = factory.Sequence(lambda n: f"series-{n}")


class PostFactory(factory.django.DjangoModelFactory):
    """A published post by one author; pass ``authors=[...]`` for others, ``tags=[...]``."""

    class Meta:
        model = Post
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"测试文章{n}")
    body = "正文第一段，带一个公式 $E=mc^2$。\n\n$$\\begin{equation}a^2+b^2=c^2\\end{equation}$$\n"
    status = Post.Status.PUBLISHED
    # Increasing with creation order and always in the past (10 years of hourly slots).
    published_at = factory.Sequence(
        lambda n: timezone.now() - timedelta(days=3650) + timedelta(hours=n)
    )
    reader_count = 0

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if not create:
            return
        for order, author in enumerate(extracted or [UserFactory(username="sujianlin")]):
            Authorship.objects.create(post=self, author=author, order=order)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class CommentFactory(factory.django.DjangoModelFactory):
    """An approved reader comment, numbered as the site numbers them (next free #n in its post)."""

    class Meta:
        model = Comment

    post = factory.SubFactory(PostFactory)
    author_name = factory.Sequence(lambda n: f"读者{n}")
    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    body = "好文章！请问 $\\alpha$ 怎么取？"
    status = Comment.Status.APPROVED
    approved_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from blog.comments.workflow import save_numbered

        return save_numbered(model_class(*args, **kwargs))


def trust_cookie(comment: Comment) -> str:
    """The value of the trust cookie the site gives the browser that posted ``comment``."""
    response = HttpResponse()
    response.set_signed_cookie(TRUST_COOKIE, str(comment.pk), salt=TRUST_COOKIE_SALT)
    return response.cookies[TRUST_COOKIE].value
