"""The judge cache: SQLite (atomic commits, safe across processes), keyed by content."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


class JudgeCache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        # WAL + synchronous=NORMAL: a commit per verdict without an fsync each (the event loop
        # must not stall on disk); a crash can lose only the last verdicts, which are re-asked.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        from .judge import Verdict

        with self._lock:
            row = self._db.execute("SELECT value FROM verdicts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        d = json.loads(row[0])
        return Verdict(d.get("data"), d.get("reason"), d.get("model"), False, d.get("usage") or {})

    def put(self, key: str, verdict: Any) -> None:
        value = json.dumps({"data": verdict.data, "reason": verdict.reason, "model": verdict.model, "usage": verdict.usage})
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO verdicts (key, value) VALUES (?, ?)", (key, value))
            self._db.commit()
