"""Write benchmark results as a Markdown table and a PNG chart."""

from pathlib import Path

from .harness import Result


def ratio(result: Result, floor: dict[int, Result]) -> float:
    base = floor.get(result.connections)
    return result.requests_per_second / base.requests_per_second if base else 0.0


def markdown(results: list[Result], floor: dict[int, Result], title: str, notes: list[str]) -> str:
    lines = [f"# {title}", "", *notes, ""]
    lines += [
        "| page | conc. | req/s | p50 ms | p99 ms | requests | errors | × floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.connections} | {r.requests_per_second:,.0f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.requests:,} | {r.errors} | {ratio(r, floor):.2f} |"
        )
    return "\n".join(lines) + "\n"


def chart(results: list[Result], floor: dict[int, Result], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r.name for r in results))
    levels = sorted({r.connections for r in results})
    by_key = {(r.name, r.connections): r for r in results}
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(names) + 1.8))
    height = 0.8 / len(levels)
    for i, level in enumerate(levels):
        values = [ratio(by_key[n, level], floor) if (n, level) in by_key else 0 for n in names]
        ax.barh(
            [y + i * height for y in range(len(names))], values, height, label=f"{level} clients"
        )
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.axvline(0.8, color="green", linestyle="--", linewidth=0.8, label="80% of floor")
    ax.set_yticks([y + height for y in range(len(names))], names)
    ax.invert_yaxis()
    ax.set_xlabel("requests/s as a fraction of the trivial Django view (same run)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
