"""The consultant's practice: a client book evaluated as a whole.

book      the client book: folders and files of profiles, each client evaluated once
agenda    every dated item of every client inside a window, sorted by date
calendar  the agenda as RFC 5545 (iCalendar), with UIDs stable across runs
page      the agenda as a printable HTML page, in English or Simplified Chinese
changes   what changed between two outlines of one client (level, date, appeared, gone)
ledger    past evaluations, recorded in SQLite (the book's own) or a shared PostgreSQL
review    a book compared with its ledger, then recorded
release   a book evaluated under two pack versions: whose advice a release changes
"""
