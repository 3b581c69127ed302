"""The page django-axes shows when a username/address pair is locked out of logging in."""

import math

from axes.helpers import get_cool_off
from django.shortcuts import render


def lockout_response(request, original_response=None, credentials=None):
    """429 with the wait in whole minutes (no hint whether the username exists)."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else 0
    return render(request, "registration/lockout.html", {"minutes": minutes}, status=429)


def client_username(request, credentials=None):
    """The username axes records, cut to the longest a real account has.

    The admin login form does not enforce its username max_length before authenticating, and
    axes stores the raw value in a 255-character column: a 100 kB username was a 500 on
    PostgreSQL.
    """
    from accounts.models import User

    if credentials:
        username = credentials.get(User.USERNAME_FIELD)
    else:
        username = getattr(request, "POST", {}).get(User.USERNAME_FIELD)
    if not isinstance(username, str):
        return username
    return username[: User._meta.get_field(User.USERNAME_FIELD).max_length]
