"""The page django-axes shows when a username/address pair is locked out of logging in."""

import math

from axes.helpers import get_cool_off
from django.shortcuts import render


def lockout_response(request, original_response=None, credentials=None):
    """429 with the wait in whole minutes (no hint whether the username exists)."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else 0
    return render(request, "registration/lockout.html", {"minutes": minutes}, status=429)
