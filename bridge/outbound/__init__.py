"""Sending (văn bản đi): intake of outboxes, the roads, tracking, operator actions."""
