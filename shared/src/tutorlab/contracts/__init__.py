"""Pydantic schemas of everything that crosses a service boundary."""
