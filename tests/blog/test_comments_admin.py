"""Moderation in the admin: filter by status, bulk approve / spam / delete, reply as staff."""

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blog.models import Comment
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:blog_comment_changelist")


def act(client, action, comments):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            CHANGELIST,
            {"action": action, "_selected_action": [c.pk for c in comments], "post": "yes"},
        )


def test_changelist_filters_by_status(staff_client):
    post = PostFactory()
    CommentFactory(post=post, body="已批准的评论")
    CommentFactory(post=post, body="待审的评论", status=Comment.Status.PENDING)
    html = staff_client.get(CHANGELIST, {"status__exact": "pending"}).content.decode()
    assert "待审的评论" in html and "已批准的评论" not in html


def test_changelist_queries_do_not_grow_with_comments(staff_client):
    CommentFactory.create_batch(3, post=PostFactory())
    staff_client.get(CHANGELIST)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(CHANGELIST)
    for _ in range(5):
        CommentFactory.create_batch(4, post=PostFactory())
    with CaptureQueriesContext(connection) as many:
        staff_client.get(CHANGELIST)
    assert len(many) == len(few)


def test_bulk_approve_publishes_and_sends_reply_emails(staff_client):
    post = PostFactory()
    parent = CommentFactory(post=post, email="p@example.org", notify_on_reply=True)
    held = [
        CommentFactory(post=post, parent=parent, status=Comment.Status.PENDING, approved_at=None)
        for _ in range(2)
    ]
    mail.outbox.clear()
    response = act(staff_client, "approve", held)
    assert response.status_code == 302
    assert set(Comment.objects.values_list("status", flat=True)) == {"approved"}
    assert all(c.approved_at for c in Comment.objects.all())
    assert [m.to for m in mail.outbox] == [["p@example.org"], ["p@example.org"]]


def test_bulk_mark_spam_hides_comments(staff_client, client):
    post = PostFactory()
    spam = CommentFactory(post=post, body="买买买")
    act(staff_client, "mark_spam", [spam])
    assert Comment.objects.get().status == Comment.Status.SPAM
    assert "买买买" not in client.get(post.get_absolute_url()).content.decode()


def test_bulk_delete(staff_client):
    comments = CommentFactory.create_batch(3, post=PostFactory())
    act(staff_client, "delete_selected", comments[:2])
    assert list(Comment.objects.all()) == [comments[2]]


def test_reply_from_the_admin_publishes_a_staff_reply_and_approves_the_parent(
    staff_client, staff, client
):
    post = PostFactory()
    parent = CommentFactory(
        post=post,
        status=Comment.Status.PENDING,
        approved_at=None,
        body="问题",
        notify_on_reply=True,
    )
    url = reverse("admin:blog_comment_change", args=[parent.pk])
    assert staff_client.get(url).status_code == 200
    data = {
        "status": "pending",
        "author_name": parent.author_name,
        "email": parent.email,
        "website": "",
        "body": parent.body,
        "notify_on_reply": "on",
        "staff_reply": "这是作者的回答 $x$",
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = staff_client.post(url, data)
    assert response.status_code == 302
    parent.refresh_from_db()
    assert parent.status == Comment.Status.APPROVED
    reply = Comment.objects.get(parent=parent)
    assert reply.is_staff_reply and reply.user == staff and reply.status == "approved"
    assert reply.number == 2
    html = client.get(post.get_absolute_url()).content.decode()
    assert "这是作者的回答" in html and "comment-badge" in html
    assert [m.to for m in mail.outbox if m.to == [parent.email]] == [[parent.email]]


def test_approving_in_the_change_form_records_the_first_approval(staff_client):
    comment = CommentFactory(status=Comment.Status.PENDING, approved_at=None)
    url = reverse("admin:blog_comment_change", args=[comment.pk])
    data = {
        "status": "approved",
        "author_name": comment.author_name,
        "email": comment.email,
        "website": "",
        "body": comment.body + " 改过",
    }
    assert staff_client.post(url, data).status_code == 302
    comment.refresh_from_db()
    assert comment.status == "approved" and comment.approved_at is not None
    assert "改过" in comment.body_html  # re-rendered on save


def test_comments_are_not_added_in_the_admin(staff_client):
    assert staff_client.get(reverse("admin:blog_comment_add")).status_code == 403
