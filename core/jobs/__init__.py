"""Long work in detached worker processes, with progress written to the database.

`runner` starts, lists, cancels and reaps jobs; `worker` is the process that runs one.
Job kinds name their functions as strings ("module:function"), imported only in the
worker, so this stage depends on nothing but the store.
"""
