"""The comment form: what a reader may send, and every check that does not need the cache."""

import re

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator, URLValidator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from blog.models import Comment

from . import html, spam, tex

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class CommentForm(forms.ModelForm):
    """Name, email (never shown), website, Markdown body; plus hidden reply target, signed
    timestamp and a honeypot. Staff members comment as themselves: no name or email fields."""

    reply_to = forms.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput
    )
    token = forms.CharField(widget=forms.HiddenInput)
    # The honeypot: hidden from people by CSS and from assistive technology by aria-hidden.
    subject = forms.CharField(
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    website = forms.URLField(
        label=_("Website"),
        required=False,
        max_length=200,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        widget=forms.URLInput(attrs={"autocomplete": "url", "placeholder": "https://"}),
    )

    class Meta:
        model = Comment
        fields = ["author_name", "email", "website", "body", "notify_on_reply"]
        labels = {
            "author_name": _("Name"),
            "email": _("Email"),
            "body": _("Comment"),
            "notify_on_reply": _("Email me when someone replies"),
        }
        help_texts = {
            "email": _("Required, never shown."),
            "body": _("Markdown; math as $…$ or $$…$$. HTML is shown as typed."),
            "notify_on_reply": "",
        }
        widgets = {
            "author_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "body": forms.Textarea(attrs={"rows": 6, "id": "comment-body"}),
        }

    def __init__(self, *args, post, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.post = post
        self.is_staff = bool(user and user.is_staff)
        limit = settings.BLOG_COMMENT_MAX_CHARS
        self.fields["body"].validators.append(MaxLengthValidator(limit))
        self.fields["body"].widget.attrs["maxlength"] = limit
        if self.is_staff:
            for name in ("author_name", "email", "website", "notify_on_reply"):
                del self.fields[name]
        if not self.is_bound:
            self.initial["token"] = spam.form_token(post.pk)

    def clean_author_name(self):
        name = self.cleaned_data["author_name"].strip()
        if _CONTROL.search(name):
            raise forms.ValidationError(_("The name may not contain control characters."))
        return name

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_body(self):
        body = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        if len(body) < 2:
            raise forms.ValidationError(_("The comment is too short."))
        if problem := tex.comment_problem(html.render(body).html):
            raise forms.ValidationError(problem, code="tex")
        return body

    def clean_reply_to(self):
        number = self.cleaned_data.get("reply_to")
        if number is None:
            return None
        parent = Comment.objects.approved().filter(post=self.post, number=number).first()
        if parent is None:
            raise forms.ValidationError(_("The comment you are replying to does not exist."))
        self.parent = parent
        return number

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("subject"):
            raise forms.ValidationError(_("Your comment could not be accepted."), code="honeypot")
        token = cleaned.get("token")
        if token is not None and not self.is_staff:  # the timer stops bots; staff are signed in
            try:
                spam.check_form_token(token, self.post.pk)
            except spam.TokenProblem as problem:
                raise forms.ValidationError(
                    TOKEN_MESSAGES[str(problem)], code=str(problem)
                ) from None
        return cleaned

    @property
    def parent_comment(self):
        return getattr(self, "parent", None)

    @cached_property
    def replying_to_name(self) -> str:
        """The name of the approved comment the form answers (for "回复 #n 名字"), or ""."""
        if self.parent_comment:
            return self.parent_comment.author_name
        number = str(self["reply_to"].value() or "")
        if not number.isdigit():
            return ""
        parent = Comment.objects.approved().filter(post=self.post, number=number).first()
        return parent.author_name if parent else ""

    def refresh_token(self):
        """Give a re-rendered form a fresh timestamp, so that sending it again works."""
        if self.is_bound:
            self.data = self.data.copy()
            self.data["token"] = spam.form_token(self.post.pk)


TOKEN_MESSAGES = {
    "invalid": _("The form was damaged; please send your comment again."),
    "too_fast": _("That was very fast. Please check your comment and send it again."),
    "expired": _("This form has expired; please send your comment again."),
}
