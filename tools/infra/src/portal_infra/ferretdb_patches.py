"""Three small fixes to FerretDB 1.24.2, applied at build time to a copy of its module.

Why: FerretDB 1.24 turns a `{_id: <string>}` filter into ``WHERE _ferretdb_sjson->'$._id' = ?``
while the `_id_` index it creates for every collection is on ``_ferretdb_sjson->"_id"``. SQLite
matches an index to an expression by its text, so every `_id` lookup, update and delete scans
the whole table and parses every document (measured: 100 ms per lookup in a 10,000-client
collection, where the index answers in well under a millisecond). The same mismatch on the
PostgreSQL backend is upstream issue FerretDB#4646, closed by v2; v1 gets no more releases.
And only a filter that is exactly `{_id: ...}` is pushed down, so `{_id: x, version: 3}` (a
compare-and-set) scans in Go, although the backend contract says a filter "may be ignored, or
safely applied partially or entirely": the handlers filter every document again.

Fixes 1 and 2 change which rows SQLite reads first, never which documents match: FerretDB
filters every candidate again with the whole MongoDB filter. Fix 3 changes only when a
statement's cursor is closed.

1. `_id` lookups use the `_id_` index (the expression is written as the index writes it).
2. The `_id` condition is pushed down when the filter has other conditions too, and
   ``{_id: {$in: [...]}}`` of strings or ObjectIDs is pushed down as ``IN (...)``.
3. An `update` command with many statements closes each statement's cursor when that statement
   is done. Upstream defers every close to the end of the command, so each statement holds a
   pooled SQLite connection: from about 100 statements in one command (or a few concurrent
   bulks of 50) the pool is exhausted and the server hangs for everyone on that database.

Each patch names the exact upstream text it replaces; a build against a different FerretDB
version fails loudly instead of building something unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

FERRETDB_MODULE = "github.com/FerretDB/FerretDB"


@dataclass(frozen=True)
class SourcePatch:
    path: str  # inside the module
    old: str
    new: str


ID_COLUMN = SourcePatch(
    path="internal/backends/sqlite/metadata/metadata.go",
    old="""	IDColumn = DefaultColumn + "->'$._id'\"""",
    new="""	// Written exactly as the `_id_` index expression, so SQLite uses that index.
	IDColumn = DefaultColumn + `->"_id"`""",
)

ID_PUSHDOWN = SourcePatch(
    path="internal/backends/sqlite/collection.go",
    old="""	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")
		switch v.(type) {
		case string, types.ObjectID:
			whereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		}
	}
""",
    new="""	// Patched: the _id condition is pushed down whatever else the filter says (the handler
	// filters every returned document again), and {_id: {$in: [...]}} becomes IN (...).
	if params.Filter.Len() >= 1 {
		v, _ := params.Filter.Get("_id")
		switch v := v.(type) {
		case string, types.ObjectID:
			whereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		case *types.Document:
			if in, err := v.Get("$in"); err == nil && v.Len() == 1 {
				if ids, ok := in.(*types.Array); ok && ids.Len() > 0 && ids.Len() <= 10000 {
					placeholders := make([]string, 0, ids.Len())
					inArgs := make([]any, 0, ids.Len())
					for i := 0; i < ids.Len(); i++ {
						id := must.NotFail(ids.Get(i))
						switch id.(type) {
						case string, types.ObjectID:
							placeholders = append(placeholders, "?")
							inArgs = append(inArgs, string(must.NotFail(sjson.MarshalSingleValue(id))))
						}
					}
					if len(placeholders) == ids.Len() {
						whereClause = fmt.Sprintf(` WHERE %s IN (%s)`, metadata.IDColumn, strings.Join(placeholders, ", "))
						args = inArgs
					}
				}
			}
		}
	}
""",
)

UPDATE_CURSORS = SourcePatch(
    path="internal/handler/msg_update.go",
    old="""		closer := iterator.NewMultiCloser()
		defer closer.Close()

		closer.Add(res.Iter)

		iter := common.FilterIterator(res.Iter, closer, u.Filter)

		if !u.Multi {
			iter = common.LimitIterator(iter, closer, 1)
		}

		result, err := common.UpdateDocument(ctx, c, "update", iter, &u)
		if err != nil {
""",
    new="""		closer := iterator.NewMultiCloser()

		closer.Add(res.Iter)

		iter := common.FilterIterator(res.Iter, closer, u.Filter)

		if !u.Multi {
			iter = common.LimitIterator(iter, closer, 1)
		}

		result, err := common.UpdateDocument(ctx, c, "update", iter, &u)

		// Patched: closed now, not deferred to the end of the command (each open cursor holds
		// a pooled SQLite connection; a command of ~100 statements exhausted the pool).
		closer.Close()

		if err != nil {
""",
)

PATCHES: tuple[SourcePatch, ...] = (ID_COLUMN, ID_PUSHDOWN, UPDATE_CURSORS)


def apply(source: str, patches: list[SourcePatch]) -> str:
    """The source with each patch applied; each old text must occur exactly once."""
    for patch in patches:
        count = source.count(patch.old)
        if count != 1:
            raise RuntimeError(
                f"FerretDB patch for {patch.path} expects its upstream text once, found {count}:"
                " the FerretDB version changed; review tools/infra/src/portal_infra/"
                "ferretdb_patches.py"
            )
        source = source.replace(patch.old, patch.new)
    return source
