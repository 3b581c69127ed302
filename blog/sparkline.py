"""A tiny server-side SVG sparkline (no JavaScript, no inline styles: fits a strict CSP)."""

from collections.abc import Sequence

from django.utils.html import format_html


def sparkline_svg(values: Sequence[int], *, label: str, width: int = 270, height: int = 40) -> str:
    """An inline SVG line (with a light area under it) of ``values``, scaled to the largest one.

    ``label`` is the accessible name (and tooltip); all other content is numbers.
    """
    values = list(values) or [0]
    peak = max(values)
    step = width / max(len(values) - 1, 1)

    def y(value: int) -> float:
        # 2px margins so the line is not clipped; a flat line sits on the bottom.
        return height - 2 - (value / peak * (height - 4) if peak else 0)

    points = " ".join(f"{i * step:.1f},{y(v):.1f}" for i, v in enumerate(values))
    area = f"0,{height} {points} {(len(values) - 1) * step:.1f},{height}"
    return format_html(
        '<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-label="{label}"><title>{label}</title>'
        '<polygon points="{area}" fill="#79aec8" fill-opacity="0.35"/>'
        '<polyline points="{points}" fill="none" stroke="#417690" stroke-width="1.5" '
        'stroke-linejoin="round"/></svg>',
        w=width,
        h=height,
        label=label,
        area=area,
        points=points,
    )
