"""Jinja2 templates for the digest, the screen print and the weekly report.

HTML templates (``*.html.j2``) are autoescaped: everything that came from a platform is text,
never markup. Plain-text templates (``*.txt.j2``) are not.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

FOLDER = Path(__file__).parent


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared template environment (autoescaping HTML, strict about missing values)."""
    env = Environment(
        loader=FileSystemLoader(str(FOLDER)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""
    return env


def render(name: str, **context: object) -> str:
    """Render one template by file name."""
    return environment().get_template(name).render(**context)
