"""Widgets of the monitor and the runs list: charts, log views, the runs table."""
