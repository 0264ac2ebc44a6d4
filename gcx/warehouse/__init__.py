"""The warehouse's shape, below every layer that reads or writes it: where the dbt project and its
manifest are (dbt.py)."""
