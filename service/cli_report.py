"""``chuangwen report daily|weekly|monthly``: a summary written as a PDF or an XLSX (by the
extension of ``--out``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from service.store.db import reading

report_cli = AppGroup("report", help="Summaries: the day's, the week's, the month's (PDF/XLSX).")

_OPTION = {"daily": "--day", "weekly": "--week", "monthly": "--month"}


def _command(kind: str):
    from service.summaries.period import form

    @report_cli.command(kind)
    @click.option(_OPTION[kind], "label", required=True, help=form(kind))
    @click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="FILE.pdf or FILE.xlsx")  # fmt: skip
    @click.option("--city", "city_code", default=None, help="City code when there are several.")
    @with_appcontext
    def write(label: str, out: Path, city_code: str | None) -> None:
        from service.cli import city_id
        from service.summaries import content, documents, period

        if out.suffix.lower() not in (".pdf", ".xlsx"):
            raise click.BadParameter("FILE.pdf or FILE.xlsx", param_hint="--out")
        try:
            p = period.parse(kind, label)
        except ValueError:
            raise click.BadParameter(f"as {form(kind)}", param_hint=_OPTION[kind]) from None
        started = dt.datetime.now()
        with reading() as conn:
            city = city_id(conn, city_code)
            summary = content.gather(conn, city, p)
            data = (
                documents.pdf(conn, city, summary)
                if out.suffix.lower() == ".pdf"
                else documents.xlsx(summary)
            )
        out.write_bytes(data)
        took = (dt.datetime.now() - started).total_seconds()
        click.echo(f"{out} ({len(data):,} bytes) in {took:.1f} s")

    write.__doc__ = f"The {kind} summary ({period_name(kind)}) of a {form(kind)}."
    return write


def period_name(kind: str) -> str:
    from service.summaries.period import NAME_ZH

    return NAME_ZH[kind]


for _kind in _OPTION:
    _command(_kind)
