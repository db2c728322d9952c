"""What every HTML part the bot sends shares: inline styles (mail clients drop <style> blocks
and external sheets) and the page around a body."""

from __future__ import annotations

BODY_STYLE = (
    "font-family: Arial, Helvetica, sans-serif; font-size: 15px; color: #1f1f1f; "
    "line-height: 1.45; max-width: 820px"
)
TABLE_STYLE = "border-collapse: collapse; margin: 4px 0 12px 0"
CELL_STYLE = "border: 1px solid #c8c8c8; padding: 6px 8px; vertical-align: top; text-align: left"
HEAD_STYLE = f"{CELL_STYLE}; background: #f0f0f0"
TITLE_STYLE = "font-size: 20px; margin: 0 0 10px 0"
HEADING_STYLE = "font-size: 16px; margin: 16px 0 4px 0"


def page(body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        f'<body style="{BODY_STYLE}">\n{body}\n</body></html>\n'
    )
