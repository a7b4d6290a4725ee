"""The test harness: a real Odoo 18.0, a real PostgreSQL, real HTTP.

One run builds a template database with the addon installed (once), copies it
for the HTTP server process and for the in-process ORM tests, and drops every
database it made when the run ends.
"""
