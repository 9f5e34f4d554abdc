"""Analysis over stored items: skill groups, role comparison."""
