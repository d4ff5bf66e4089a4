"""The units table: a CSV or XLSX file with one unit a row, as a province already keeps it.

`read_table(path)` reads it leniently: a UTF-8 (with or without BOM), UTF-16 or Windows-1258
CSV separated by `,`, `;` or tabs, or the first sheet of an XLSX workbook; headers in English
or Vietnamese, with or without diacritics (`Mã đơn vị`, `ma don vi`, `code`). Every header
becomes a canonical column: `code`, `name`, `area`, `enabled`, or `<road>.<key>` for a road's
settings (`moffice.username`, `home.api_key_file`). Columns it does not know are left aside
and named in `Table.ignored`. `write_table` writes the canonical form atomically.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bridge.config_errors import suggestion
from bridge.errors import ConfigError

UNIT_COLUMNS = ("code", "name", "area", "enabled")
HOME = "home"  # the road of a unit's home system (its first sink); `home.profile` says which

_UNIT_ALIASES = {
    "code": (
        "code", "id", "unit code", "unit id", "organ code", "ma", "ma don vi", "ma dv",
        "ma dinh danh", "ma dinh danh don vi", "ma co quan", "ma to chuc",
    ),
    "name": ("name", "unit name", "ten", "ten don vi", "ten dv", "ten co quan", "ten to chuc"),
    "area": (
        "area", "district", "region", "khu vuc", "dia ban", "huyen", "quan huyen",
        "huyen thi", "cum", "vung",
    ),
    "enabled": (
        "enabled", "active", "kich hoat", "hoat dong", "su dung", "dang dung", "bat", "trang thai",
    ),
}  # fmt: skip
_UNIT_BY_ALIAS = {alias: column for column, aliases in _UNIT_ALIASES.items() for alias in aliases}

_ROAD_ALIASES = {
    "mofice": "moffice",
    "vofice": "voffice",
    "tdofice": "tdoffice",
    "truc": "vxp",
    "truclienthong": "vxp",
    "truc lien thong": "vxp",
    "edxml": "vxp",
    "thudientu": "mailbox",
    "hopthu": "mailbox",
    "mail": "mailbox",
    "email": "mailbox",
    "thumuc": "folder",
    "hethongchinh": HOME,
    "he thong chinh": HOME,
    "nha": HOME,
}
_KEY_ALIASES = {
    "tai khoan": "username",
    "ten dang nhap": "username",
    "user": "username",
    "mat khau": "password",
    "khoa api": "api_key",
    "khoa": "api_key",
    "ma he thong": "system_id",
    "bi mat": "secret",
    "dia chi": "base_url",
    "url": "base_url",
    "ho so": "profile",
    "loai": "profile",
}
_YES = {"", "1", "true", "yes", "y", "x", "co", "bat", "on", "dung"}
_NO = {"0", "false", "no", "n", "khong", "tat", "off", "ngung"}


@dataclass(frozen=True)
class Row:
    """One unit's row: its line in the file (1 is the header) and its non-empty cells."""

    line: int
    cells: dict[str, str]
    source: str | None = None  # another file than the table's (a row an import kept)


@dataclass
class Table:
    """A units table read: where from, its canonical columns, rows, and columns left aside."""

    source: str  # the file's name, as messages cite it
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def origin(self, row: Row, column: str) -> str:
        """`units.csv dòng 5, cột moffice.username / units.csv row 5, column …`"""
        source = row.source or self.source
        return f"{source} dòng {row.line}, cột {column} / row {row.line}, column {column}"


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), spaces for `_ -` runs: how headers are compared."""
    text = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\(.*?\)", " ", text)  # "Mã đơn vị (bắt buộc)"
    return re.sub(r"[\s_\-]+", " ", text).strip()


def parse_enabled(value: str) -> bool | None:
    """A yes/no cell (`1`, `x`, `có`, `true`, `0`, `không`…); None when it is neither."""
    folded = fold(value)
    if folded in _YES:
        return True
    return False if folded in _NO else None


def canonical_column(header: str, roads: Iterable[str]) -> str | None:
    """The canonical name of a header, or None when it is not a column of the units table.

    Raises ValueError for `<road>.<key>` naming an unknown road (a typo would drop a road)."""
    header = header.strip().lstrip("\ufeff")
    for sep in (".", ":", "/"):
        if sep in header:
            road_text, key_text = header.split(sep, 1)
            return f"{_road(road_text, roads)}.{_key(key_text)}"
    return _UNIT_BY_ALIAS.get(fold(header))


def _road(text: str, roads: Iterable[str]) -> str:
    known = {*roads, HOME}
    folded = fold(text)
    for candidate in (folded, folded.replace(" ", "")):
        if candidate in known:
            return candidate
        if candidate in _ROAD_ALIASES:
            return _ROAD_ALIASES[candidate]
    raise ValueError(
        f"không biết đường {text.strip()!r} / unknown road (có / known: {', '.join(sorted(known))})"
        + suggestion(folded.replace(" ", ""), known)
    )


def _key(text: str) -> str:
    folded = fold(text)
    suffix = ""
    for prefix, ending in (("tep ", "_file"), ("bien ", "_env")):
        if folded.startswith(prefix):
            folded, suffix = folded.removeprefix(prefix), ending
    key = _KEY_ALIASES.get(folded, folded).replace(" ", "_")
    return key + suffix


def read_table(path: Path, roads: Iterable[str]) -> Table:
    """Read a CSV or XLSX units table. Raises ConfigError when the file cannot be read or has
    no code column; rows' values are checked later, with the configuration."""
    name = path.name
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            grid = _xlsx_rows(path)
        else:
            grid = _csv_rows(path.read_bytes())
    except OSError as exc:
        raise ConfigError(
            [f"{path}: không đọc được bảng đơn vị / cannot read ({exc.strerror})"]
        ) from None
    except (
        ValueError,
        KeyError,
        zipfile.BadZipFile,
    ) as exc:  # a damaged workbook, a zip that is not one
        raise ConfigError([f"{path}: không đọc được bảng đơn vị / cannot read: {exc}"]) from None
    lines = [(n, row) for n, row in enumerate(grid, start=1) if any(c.strip() for c in row)]
    if not lines:
        raise ConfigError([f"{name}: bảng đơn vị trống / the units table is empty"])
    roads = list(roads)
    header_at = next(
        (i for i, (_, row) in enumerate(lines[:10]) if _names_code(row, roads)), 0
    )  # a title row or two may stand above the header
    lines = lines[header_at:]
    header_line, header = lines[0]
    table = Table(name)
    columns: list[str | None] = []
    errors = []
    for text in header:
        try:
            column = canonical_column(text, roads) if text.strip() else None
        except ValueError as exc:
            errors.append(f"{name} dòng {header_line}, cột {text.strip()!r}: {exc}")
            column = None
        if column is None and text.strip():
            table.ignored.append(text.strip())
        elif column is not None and column in table.columns:
            errors.append(f"{name}: cột {column} lặp lại / column {column} appears twice")
        elif column is not None:
            table.columns.append(column)
        columns.append(column)
    if "code" not in table.columns:
        errors.append(
            f"{name}: không có cột mã đơn vị (Mã đơn vị / code) / no unit code column"
            f" (header: {', '.join(h.strip() for h in header)})"
        )
    if errors:
        raise ConfigError(errors)
    for n, values in lines[1:]:
        cells = {
            column: value.strip()
            for column, value in zip(columns, values, strict=False)
            if column is not None and value.strip()
        }
        table.rows.append(Row(n, cells))
    return table


def _names_code(row: list[str], roads: list[str]) -> bool:
    return any("." not in c and canonical_column(c, roads) == "code" for c in row)


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _decode(data)
    head = text.split("\n", 10)[:10]  # a title line may have no separator at all
    delimiter = max((";", ",", "\t"), key=lambda d: sum(line.count(d) for line in head))
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _decode(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with its BOM, else Windows-1258; NFC either way (1258
    writes many Vietnamese letters as a base letter and a combining tone mark)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1258", errors="replace")
    return unicodedata.normalize("NFC", text)


def _xlsx_rows(path: Path) -> list[list[str]]:
    import openpyxl  # loaded only for a workbook

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value))


def write_table(path: Path, columns: Sequence[str], rows: Iterable[dict[str, str]]) -> None:
    """Write rows under `columns` (UTF-8 CSV, or XLSX by the file's suffix), atomically: a
    reader sees the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            _write_xlsx(Path(tmp), columns, rows)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows([row.get(c, "") for c in columns] for row in rows)
                out.flush()
                os.fsync(out.fileno())
        _keep_access(Path(tmp), path)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _keep_access(tmp: Path, path: Path) -> None:
    """The new file gets the old one's mode and owner (the daemon's user must still read a
    table root rewrote); a first one the mode a plain `open` would give."""
    try:
        st = path.stat()
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    os.chmod(tmp, st.st_mode & 0o777)
    with contextlib.suppress(PermissionError):  # not root: it stays ours, as an edit leaves it
        os.chown(tmp, st.st_uid, st.st_gid)


def _write_xlsx(path: Path, columns: Sequence[str], rows: Iterable[dict[str, str]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "units"
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    book.save(path)
