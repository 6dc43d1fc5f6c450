"""The libostree programs that worker.py runs by name.

Each module is one program with an entry main(args, input) that returns what
the caller in src/exec/libostree.ts reads (JSON values). Importing a module
does nothing but define it: the worker keeps it loaded for the next request.
"""
