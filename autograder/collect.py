"""``autograder collect``: an LMS download (a zip or a folder) into nbgrader's ``submitted/<student>/<assignment>/``.

Four layouts are understood, each by what the LMS itself says about who uploaded a file:

- **Canvas** ("Download Submissions"): a flat zip of ``<name>_<userid>_<submissionid>_<filename>``, with ``late``
  after the name when Canvas marked the submission late (``smithtara_late_1234_5678_a3-1.ipynb``; ``-1`` is Canvas's
  suffix for a resubmitted file). Identity: the Canvas user id (and its name part). Time: the zip entry's time.
- **Moodle** ("Download all submissions"): a folder per student ``<Full Name>_<participant id>_assignsubmission_file_/``
  holding the uploaded files (or, without "download submissions in folders", flat files
  ``<Full Name>_<id>_assignsubmission_file_<filename>``). Identity: the participant id and the full name. Moodle's
  download carries no submission time.
- **Blackboard** (Grade Centre, "Download assignment"): per attempt a receipt ``<Assignment>_<username>_attempt_
  <YYYY-MM-DD-HH-MM-SS>.txt`` (``Name: Full Name (username)``, the list of the attempt's files) and the files
  ``<Assignment>_<username>_attempt_<datetime>_<filename>``. Identity: the receipt's username. Time: the attempt's.
- **Plain folders**: ``<student>/<files>`` or ``<student>/<assignment>/<files>`` (an optional ``timestamp.txt`` in
  nbgrader's format is the submission time). Identity: the folder's name.

The uploaded file's own name never says who the student is. Student ids are made deterministically from the LMS
identity (:func:`safe_id`; ``--id-from lms-id`` uses the LMS's user id instead of the name) and recorded in the course's
``lms_ids.csv`` (student id, LMS, LMS user id, LMS name), which later collections follow, so an id never changes
hands. Nothing is merged and nothing is overwritten silently: two notebooks for one student, an entry that fits no
layout, two uploaders that would get one id, an unsafe entry (a symbolic link, an absolute or ``..`` path) or a
download over the size caps stops the collection before anything is written, with every case listed
(:class:`CollectError`). A changed submission of an already collected student is replaced only with ``replace``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from autograder.notebook import MAX_NOTEBOOK_BYTES, Course, read_regular_file

IDS_FILE = "lms_ids.csv"
IDS_COLUMNS = ("student_id", "lms", "lms_user_id", "lms_name")
LAYOUTS = ("canvas", "moodle", "blackboard", "folders")
TIMESTAMP_FORMAT = (
    "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's own (ExchangeSubmit.timestamp_format), written in UTC
)

_CANVAS = re.compile(r"^(?P<name>[^_/]+)_(?:(?P<late>late)_)?(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$", re.I)
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<rest>.*)$")
_BB_RECEIPT = re.compile(r"^(?P<stem>.+_attempt_(?P<dt>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}))\.txt$")
_BB_NAME = re.compile(r"^Name:\s*(?P<name>.*?)\s*\((?P<user>[^()\s]+)\)\s*$", re.M)
_BB_FILE = re.compile(r"^\s*Filename:\s*(?P<file>\S.*?)\s*$", re.M)
_IGNORED = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$)")
_TRANSLIT = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}


class CollectError(ValueError):
    """The download cannot be collected unambiguously; ``problems`` lists every case (nothing was written)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"nothing was collected ({len(problems)} problem(s)):\n" + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True)
class Caps:
    """Limits on a download: entries, bytes of one file, bytes in all, and the compression ratio of a zip entry."""

    max_files: int = 5000
    max_file_bytes: int = MAX_NOTEBOOK_BYTES
    max_total_bytes: int = 500_000_000
    max_ratio: float = 200.0


@dataclass
class Collected:
    """What a collection did (or, with ``dry_run``, would do)."""

    layout: str
    imported: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    without_time: list[str] = field(default_factory=list)
    flagged_late: list[str] = field(default_factory=list)
    new_ids: list[tuple[str, str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the terminal."""
        lines = [f"layout: {self.layout}"]
        for label, names in (
            ("imported", self.imported),
            ("replaced (changed since the last collection)", self.replaced),
            ("unchanged", self.unchanged),
            ("without a submission time (not late unless timestamp.txt says so)", self.without_time),
            (
                "marked late by the LMS (compare with the gradebook's lateness after grading)",
                self.flagged_late,
            ),
            ("entries not imported (not a notebook)", self.ignored),
        ):
            if names:
                lines.append(f"{label}: {len(names)}: {', '.join(names)}")
        for sid, lms, uid, name in self.new_ids:
            lines.append(f"new student id {sid!r} for {lms} user {uid} ({name}) in {IDS_FILE}")
        return "\n".join(lines)


@dataclass
class _Entry:
    path: str  # "/"-separated, relative to the download's root
    size: int
    stored: int  # compressed size (== size for a folder)
    mtime: datetime | None  # naive (a zip has no time zone)
    read: object  # () -> bytes, with the per-file cap enforced


@dataclass
class _Upload:
    lms: str
    user: str  # the LMS's id of the uploader
    name: str  # the LMS's name of the uploader
    entry: _Entry
    filename: str  # the uploaded file's own name (never used for identity)
    submitted: datetime | None  # aware
    flagged_late: bool = False  # the LMS itself marked it late (Canvas)


def safe_id(text: str) -> str:
    """A student id made of ``[a-z0-9_]`` from a name, deterministically: accents dropped, letters of other Latin
    alphabets transliterated (``ß`` → ``ss``), apostrophes removed (``O'Brien`` → ``obrien``), every other run of
    characters → ``_``. ``"Tara  Smith"`` → ``tara_smith``. Empty if nothing usable is left."""
    text = "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = re.sub(r"['’`ʼ]", "", text)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:100]


def _unsafe(path: str) -> str | None:
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return "an absolute path"
    if any(part == ".." for part in re.split(r"[/\\]", path)):
        return "a '..' path"
    if "\x00" in path:
        return "a NUL byte in its name"
    return None


class _ReadBudget:
    """Bytes actually unpacked so far (a zip header's sizes may lie): over a cap, the collection stops."""

    def __init__(self, caps: Caps) -> None:
        self.caps, self.used = caps, 0

    def take(self, data: bytes, what: str) -> bytes:
        if len(data) > self.caps.max_file_bytes:
            raise CollectError(
                [f"{what} is larger than its size says and the cap of {self.caps.max_file_bytes:,}"]
            )
        self.used += len(data)
        if self.used > self.caps.max_total_bytes:
            raise CollectError(
                [f"unpacking {what} goes over the cap of {self.caps.max_total_bytes:,} bytes in all"]
            )
        return data


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name; one stored without the UTF-8 flag is tried as UTF-8 (accented names from an LMS) before
    zipfile's cp437 reading is kept."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _zip_entries(zip_path: Path, caps: Caps, problems: list[str]) -> list[_Entry]:
    if not zipfile.is_zipfile(zip_path):
        raise CollectError([f"{zip_path} is not a zip file"])
    zf = zipfile.ZipFile(zip_path)
    infos = zf.infolist()
    if len(infos) > caps.max_files:
        raise CollectError([f"{zip_path.name} has {len(infos)} entries, over the cap of {caps.max_files}"])
    declared = sum(i.file_size for i in infos)
    if declared > caps.max_total_bytes:
        raise CollectError(
            [f"{zip_path.name} would unpack to {declared:,} bytes, over the cap of {caps.max_total_bytes:,}"]
        )
    out = []
    budget = _ReadBudget(caps)
    for info in infos:
        name = _entry_name(info)
        why = _unsafe(name)
        mode = info.external_attr >> 16
        if why is None and stat.S_ISLNK(mode):
            why = "a symbolic link"
        if why:
            problems.append(f"zip entry {name!r} is {why}: refused")
            continue
        if info.is_dir() or _IGNORED.search(name):
            continue
        if info.file_size > caps.max_file_bytes:
            problems.append(
                f"zip entry {name!r} is {info.file_size:,} bytes, over the cap of {caps.max_file_bytes:,}"
            )
            continue
        if info.file_size > 1_000_000 and info.file_size > caps.max_ratio * max(info.compress_size, 1):
            problems.append(
                f"zip entry {name!r} expands {info.file_size / max(info.compress_size, 1):.0f}-fold "
                f"(over {caps.max_ratio:.0f}): refused as a zip bomb"
            )
            continue

        def read(info: zipfile.ZipInfo = info, name: str = name) -> bytes:
            with zf.open(info) as fh:  # the header's size may lie: read at most the cap + 1
                return budget.take(fh.read(caps.max_file_bytes + 1), f"zip entry {name!r}")

        try:  # 1980-01-01 00:00 is the zip format's "no time"
            mtime = datetime(*info.date_time) if info.date_time > (1980, 1, 1, 0, 0, 0) else None
        except ValueError:
            mtime = None
        out.append(_Entry(name.replace("\\", "/"), info.file_size, info.compress_size, mtime, read))
    return out


def _dir_entries(root: Path, caps: Caps, problems: list[str]) -> list[_Entry]:
    out: list[_Entry] = []
    total = 0
    budget = _ReadBudget(caps)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                problems.append(f"{rel!r} is a symbolic link: refused")
                if name in dirnames:
                    dirnames.remove(name)
                continue
            if stat.S_ISDIR(st.st_mode) or _IGNORED.search(rel):
                continue
            if not stat.S_ISREG(st.st_mode):
                problems.append(f"{rel!r} is not a regular file: refused")
                continue
            if len(out) >= caps.max_files:
                raise CollectError([f"{root} holds more than {caps.max_files} files (the cap)"])
            total += st.st_size
            if total > caps.max_total_bytes:
                raise CollectError([f"{root} holds more than {caps.max_total_bytes:,} bytes (the cap)"])
            if st.st_size > caps.max_file_bytes:
                problems.append(f"{rel!r} is {st.st_size:,} bytes, over the cap of {caps.max_file_bytes:,}")
                continue

            def read(full: Path = full) -> bytes:
                fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                with os.fdopen(fd, "rb") as fh:
                    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                        raise CollectError([f"{full} is not a regular file"])
                    return budget.take(fh.read(caps.max_file_bytes + 1), str(full))

            out.append(_Entry(rel, st.st_size, st.st_size, None, read))
    return out


def detect_layout(paths: list[str]) -> str:
    """The layout of a download from its file paths: canvas, moodle, blackboard or folders (``CollectError`` if it is
    none of them, or several)."""
    found = set()
    for p in paths:
        parts = p.split("/")
        if len(parts) == 1 and _BB_RECEIPT.match(p):
            found.add("blackboard")
        elif _MOODLE.match(parts[0]):
            found.add("moodle")
        elif len(parts) == 1 and _CANVAS.match(p):
            found.add("canvas")
    if "blackboard" in found:
        found.discard("canvas")  # a Blackboard attempt file can look like Canvas's pattern by chance
    if len(found) == 1:
        return found.pop()
    if found:
        raise CollectError(
            [f"the download mixes layouts ({', '.join(sorted(found))}); collect each separately"]
        )
    if paths and all("/" in p for p in paths):
        return "folders"
    top = [p for p in paths if "/" not in p]
    raise CollectError(
        [
            "unknown layout: not a Canvas, Moodle or Blackboard download, and files lie outside student folders: "
        ]
        + [f"{p!r} fits no layout" for p in top[:50]]
    )


def _local_time(naive: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if naive is None else naive.replace(tzinfo=tz)


def _uploads(
    layout: str, entries: list[_Entry], assignment: str, tz: ZoneInfo, problems: list[str]
) -> list[_Upload]:
    ups: list[_Upload] = []
    if layout == "canvas":
        for e in entries:
            m = _CANVAS.match(e.path) if "/" not in e.path else None
            if m is None:
                problems.append(
                    f"{e.path!r} does not fit Canvas's <name>_<userid>_<submissionid>_<file> names"
                )
                continue
            when = _local_time(e.mtime, tz)
            ups.append(_Upload("canvas", m["uid"], m["name"], e, m["file"], when, bool(m["late"])))
    elif layout == "moodle":
        for e in entries:
            parts = e.path.split("/")
            m = _MOODLE.match(parts[0])
            if m is None or (len(parts) == 1 and not m["rest"]) or (len(parts) > 1 and m["rest"]):
                problems.append(
                    f"{e.path!r} does not fit Moodle's <Full Name>_<id>_assignsubmission_<type>_ names"
                )
                continue
            if m["plugin"] != "file":
                continue  # online text, comments: not a file submission
            ups.append(
                _Upload("moodle", m["uid"], m["name"], e, parts[-1] if len(parts) > 1 else m["rest"], None)
            )
    elif layout == "blackboard":
        receipts = {}
        for e in entries:
            m = _BB_RECEIPT.match(e.path) if "/" not in e.path else None
            if m is None:
                continue
            text = e.read().decode("utf-8", errors="replace")
            who = _BB_NAME.search(text)
            if who is None or not m["stem"].endswith(f"_{who['user']}_attempt_{m['dt']}"):
                problems.append(
                    f"receipt {e.path!r} does not name its uploader as 'Name: Full Name (username)'"
                )
                continue
            when = datetime.strptime(m["dt"], "%Y-%m-%d-%H-%M-%S").replace(tzinfo=tz)
            receipts[m["stem"]] = (who["user"], who["name"], when, set(_BB_FILE.findall(text)))
        for e in entries:
            if "/" not in e.path and _BB_RECEIPT.match(e.path):
                continue
            stems = [s for s in receipts if e.path.startswith(s + "_")]
            if len(stems) != 1:
                problems.append(
                    f"{e.path!r} belongs to no Blackboard attempt receipt (<...>_attempt_<time>.txt)"
                )
                continue
            user, name, when, listed = receipts[stems[0]]
            if listed and e.path not in listed:
                problems.append(f"{e.path!r} is not among the files that receipt {stems[0]}.txt lists")
                continue
            ups.append(_Upload("blackboard", user, name, e, e.path[len(stems[0]) + 1 :], when))
    else:
        for e in entries:
            parts = e.path.split("/")
            if len(parts) == 2 or (len(parts) == 3 and parts[1] == assignment):
                ups.append(_Upload("folders", parts[0], parts[0], e, parts[-1], None))
            else:
                problems.append(f"{e.path!r} is not <student>/<file> or <student>/{assignment}/<file>")
    return ups


def read_ids(course: Course) -> list[dict[str, str]]:
    """The rows of the course's ``lms_ids.csv`` (empty if there is none)."""
    path = course.root / IDS_FILE
    if not path.exists():
        return []
    rows = list(csv.DictReader(io.StringIO(read_regular_file(path).decode("utf-8"))))
    for row in rows:
        if set(IDS_COLUMNS) - set(row):
            raise ValueError(f"{path} must have the columns {', '.join(IDS_COLUMNS)}")
    return rows


def _no_links(course: Course, *parts: str) -> str | None:
    path = course.root
    for n, part in enumerate(parts, start=1):
        path, last = path / part, n == len(parts)
        if path.is_symlink():
            return f"{path} is a symbolic link: refused"
        if path.exists() and not (path.is_file() if last else path.is_dir()):
            return f"{path} is not a {'regular file' if last else 'folder'}"
    return None


def _write_new(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.collect-tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def collect(
    course: Course,
    assignment: str,
    notebook: str,
    download: Path,
    layout: str = "auto",
    id_from: str = "name",
    timezone: str = "UTC",
    replace: bool = False,
    dry_run: bool = False,
    caps: Caps | None = None,
) -> Collected:
    """Collect an LMS download into ``submitted/<student>/<assignment>/<notebook>.ipynb`` (+ ``timestamp.txt``).

    Parameters
    ----------
    course : Course
        The nbgrader course directory.
    assignment, notebook : str
        The assignment and its notebook's name (the file every student's notebook is stored as).
    download : Path
        The LMS's zip, or a folder (an unpacked download, or one folder per student).
    layout : {"auto", "canvas", "moodle", "blackboard", "folders"}
        The download's layout (``auto``: recognised from its names).
    id_from : {"name", "lms-id"}
        Make new student ids from the uploader's name (``tara_smith``) or from the LMS's user id.
    timezone : str
        IANA time zone of the LMS's times without one (a zip entry's time, Blackboard's attempt time).
    replace : bool
        Replace an already collected submission whose content or time changed (a resubmission).
    dry_run : bool
        Check and report, write nothing.
    caps : Caps, optional
        Size and count limits.

    Returns
    -------
    Collected

    Raises
    ------
    CollectError
        Listing every problem; nothing has been written.
    """
    caps = caps or Caps()
    if layout not in ("auto", *LAYOUTS):
        raise ValueError(f"--lms must be auto or one of {', '.join(LAYOUTS)}, got {layout!r}")
    if id_from not in ("name", "lms-id"):
        raise ValueError(f"--id-from must be name or lms-id, got {id_from!r}")
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"--lms-timezone: unknown time zone {timezone!r} (an IANA name such as Europe/Paris)"
        ) from None
    download = Path(download)
    if download.is_symlink():
        raise CollectError([f"{download} is a symbolic link: refused"])
    problems: list[str] = []
    if download.is_dir():
        entries = _dir_entries(download, caps, problems)
    elif download.is_file():
        entries = _zip_entries(download, caps, problems)
    else:
        raise ValueError(f"{download} is neither a zip file nor a folder")
    if not entries and not problems:
        raise CollectError([f"{download} holds no files"])
    if layout == "auto":
        layout = detect_layout([e.path for e in entries]) if entries else "folders"
    ups = _uploads(layout, entries, assignment, tz, problems)

    # Identity: (lms, user) → student id, following lms_ids.csv; never two uploaders on one id.
    rows = read_ids(course)
    by_key = {(r["lms"], r["lms_user_id"]): r["student_id"] for r in rows}
    owner = {r["student_id"]: (r["lms"], r["lms_user_id"]) for r in rows}
    result = Collected(layout)
    ids: dict[tuple[str, str], str] = {}
    for up in ups:
        key = (up.lms, up.user)
        if key in ids:
            continue
        if key in by_key:
            ids[key] = by_key[key]
            continue
        sid = safe_id(up.name if id_from == "name" else up.user)
        if up.lms == "folders" and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}", up.user):
            sid = up.user  # a plain folder already named by a safe id keeps it
        if not sid:
            problems.append(
                f"{up.lms} user {up.user} ({up.name!r}): no id can be made from the name; use --id-from lms-id"
            )
            continue
        if sid in owner and owner[sid] != key:
            other = owner[sid]
            problems.append(
                f"{up.lms} user {up.user} ({up.name!r}) and {other[0]} user {other[1]} would both be student {sid!r}; "
                f"use --id-from lms-id, or give one of them another id in {IDS_FILE}"
            )
            continue
        if up.lms != "folders" and (course.root / "submitted" / sid).exists() and sid not in owner:
            problems.append(
                f"student {sid!r} already exists under submitted/ but {IDS_FILE} does not tie it to {up.lms} user "
                f"{up.user} ({up.name!r}); add that row to {IDS_FILE} if they are the same person"
            )
            continue
        ids[key] = sid
        owner[sid] = key
        result.new_ids.append((sid, up.lms, up.user, up.name))

    # Exactly one notebook per student; everything else is listed, not imported.
    notebooks: dict[str, list[_Upload]] = {}
    for up in ups:
        if (up.lms, up.user) not in ids:
            continue
        if up.filename.lower().endswith(".ipynb"):
            notebooks.setdefault(ids[(up.lms, up.user)], []).append(up)
        elif not (up.lms == "folders" and up.filename == "timestamp.txt"):
            result.ignored.append(up.entry.path)
    for sid, mine in sorted(notebooks.items()):
        if len(mine) > 1:
            problems.append(
                f"student {sid!r} has {len(mine)} notebooks for {assignment}: "
                + ", ".join(repr(u.entry.path) for u in mine)
                + " (keep one in the download)"
            )
    stamps: dict[str, datetime | None] = {}
    for up in ups:
        if up.lms == "folders" and up.filename == "timestamp.txt" and (up.lms, up.user) in ids:
            from nbgrader.utils import parse_utc

            try:
                stamps[ids[(up.lms, up.user)]] = parse_utc(up.entry.read().decode("utf-8").strip())
            except (ValueError, OverflowError, UnicodeDecodeError):
                problems.append(f"{up.entry.path!r} is not a time nbgrader can read")

    plan: list[tuple[str, bytes, datetime | None, bool]] = []
    for sid, mine in sorted(notebooks.items()):
        if len(mine) != 1:
            continue
        up = mine[0]
        why = _no_links(course, "submitted", sid, assignment, f"{notebook}.ipynb")
        why = why or _no_links(course, "submitted", sid, assignment, "timestamp.txt")
        if why:
            problems.append(why)
            continue
        data = up.entry.read()
        when = up.submitted if up.lms != "folders" else stamps.get(sid)
        target = course.submission(sid, assignment, notebook)
        old_stamp = target.parent / "timestamp.txt"
        new_stamp = when.astimezone(UTC).strftime(TIMESTAMP_FORMAT) if when else None
        if target.exists():
            same_data = target.read_bytes() == data
            have = old_stamp.read_text().strip() if old_stamp.exists() else None
            if same_data and have == new_stamp:
                result.unchanged.append(sid)
                continue
            if not replace:
                problems.append(
                    f"student {sid!r} already has a different {assignment} submission (a resubmission?); "
                    "pass --replace to take the download's version"
                )
                continue
            result.replaced.append(sid)
        else:
            result.imported.append(sid)
        if when is None:
            result.without_time.append(sid)
        if up.flagged_late:
            result.flagged_late.append(sid)
        plan.append((sid, data, when, target.exists()))
    if problems:
        raise CollectError(problems)
    if dry_run:
        return result

    for sid, data, when, _ in plan:
        target = course.submission(sid, assignment, notebook)
        target.parent.mkdir(parents=True, exist_ok=True)
        why = _no_links(course, "submitted", sid, assignment, f"{notebook}.ipynb")
        if why:  # created between the check and now: still refuse
            raise CollectError([why])
        _write_new(target, data)
        stamp = target.parent / "timestamp.txt"
        if when is not None:
            _write_new(stamp, (when.astimezone(UTC).strftime(TIMESTAMP_FORMAT) + "\n").encode())
        elif stamp.exists():
            stamp.unlink()  # the old time belonged to the old file
    if result.new_ids:
        path = course.root / IDS_FILE
        if path.is_symlink():
            raise CollectError([f"{path} is a symbolic link: refused"])
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(IDS_COLUMNS)
        for r in rows:
            writer.writerow([r[c] for c in IDS_COLUMNS])
        writer.writerows(result.new_ids)
        _write_new(path, buf.getvalue().encode("utf-8"))
    return result
