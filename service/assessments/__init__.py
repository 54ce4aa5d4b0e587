"""Mock assessments (模拟测评) and the points they lose (谁丢分谁受责): versioned sheets per
point category, an assessor's scores at a point, each deduction filed as a case and
attributed to the unit and zone of its place (块) and the department of its category (条)."""
