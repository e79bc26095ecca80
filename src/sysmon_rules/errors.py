"""Where things are, what went wrong, and the exceptions the public API raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a source file; line and column count from 1 (0 when unknown)."""

    path: str | None = None
    line: int = 0
    column: int = 0
    node_path: str = ""

    def __str__(self) -> str:
        where = self.path or "<config>"
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return where


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable code, a severity, a message and where it applies."""

    code: str
    severity: Severity
    message: str
    location: Location = Location()
    hint: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The JSON form ``validate --format json`` prints."""
        return {"code": self.code, "severity": self.severity, "message": self.message, "hint": self.hint,
                "location": asdict(self.location)}

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity}[{self.code}]: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class SysmonRulesError(ValueError):
    """Base class of every error this library raises on bad input."""

    code = "invalid-input"  # the Diagnostic code this error is reported under

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location or Location()
        super().__init__(f"{self.location}: {message}" if location else message)

    def as_diagnostics(self) -> list[Diagnostic]:
        """The error as the Diagnostics a command prints, one line each."""
        return [Diagnostic(self.code, "error", self.message, self.location)]

    def placed(self, path: str) -> SysmonRulesError:
        """This error, naming ``path`` when it names no file (the bytes it is about came from there)."""
        if not self.location.path:
            self.location = replace(self.location, path=path)
            self.args = (f"{self.location}: {self.message}",)
        return self


class ConfigSyntaxError(SysmonRulesError):
    """The file is not well-formed XML, or not in an encoding Sysmon reads."""

    code = "xml-syntax"


class ConfigValidationError(SysmonRulesError):
    """The file is XML but Sysmon would reject it; carries every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = next((d for d in diagnostics if d.severity == "error"), diagnostics[0])
        more = len([d for d in diagnostics if d.severity == "error"]) - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more > 0 else ""
        super().__init__(f"error[{first.code}]: {first.message}{suffix}", first.location)

    def as_diagnostics(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"] or list(self.diagnostics)


class FileAccessError(SysmonRulesError):
    """A file that cannot be read or written (missing, unreadable, a folder, no space left).

    Not a syntax error: the content was never seen. The message names the path.
    """

    code = "file-access"

    def __init__(self, path: str, action: str, exc: OSError) -> None:
        self.path = path
        super().__init__(f"cannot {action} the file: {exc.strerror or exc}", Location(path))


class PlatformError(SysmonRulesError):
    """A platform other than the two Sysmon builds, ``windows`` and ``linux``."""

    code = "platform"


class SchemaVersionError(SysmonRulesError):
    """A schema version that is malformed or that Sysmon does not support."""

    code = "schema-version"


class SourceError(SysmonRulesError):
    """An input that is not what the command reads (no rules in it, the wrong kind of file, too
    large, empty), or a source that names nothing usable (merge's SOURCE and module lists)."""

    code = "source"


class BlobFormatError(SysmonRulesError):
    """A rule blob that cannot be decoded; names the byte offset and the struct being read."""

    code = "blob-format"

    def __init__(self, message: str, offset: int, struct: str) -> None:
        self.offset = offset
        self.struct = struct
        super().__init__(f"at byte {offset} ({struct}): {message}")
