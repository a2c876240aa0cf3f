"""History store: every edit, generation, rating and chat turn of a document, kept in the document file.

- `store.HistoryStore`: open/create a `.studio` file, append events asynchronously, read revisions, events and
  states, restore and branch.
- `events`: event kinds and constructors (`stroke_event`, `setting_event`, `generation_event`, ...).
- `state.DocumentState`: the document at a revision.
- `export.export_history` / `importer.import_history`: zip archives (JSONL, PNG/JSON blobs, Parquet).
- `check.check_document`: consistency check; `record`: bridges to the engine's and document's types.
- Inside: `schema` (file format), `migrations`, `writer` + `background` (threads), `rows`, `reads`,
  `checkpoints`, `blobs`, `archive` + `dataset` (export format), `cli` (`studio history ...`).
"""
