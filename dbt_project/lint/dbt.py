"""Stand-ins for dbt's cross-database macros when sqlfluff renders a model without dbt (make lint):
each returns the PostgreSQL that dbt-postgres would, close enough to parse and lint."""


def current_timestamp():
    return "now()"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + ({interval}) * interval '1 {datepart}')"


def datediff(first_date, second_date, datepart):
    return f"(extract(epoch from ({second_date}) - ({first_date})) / 86400)"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def concat(fields):
    return " || ".join(fields)


def hash(field):
    return f"md5(cast({field} as text))"


def bool_or(expression):
    return f"bool_or({expression})"


def generate_series(upper_bound):
    return f"select generate_series(1, {upper_bound}) as generated_number"


def type_bigint():
    return "bigint"


def type_numeric():
    return "numeric(28, 6)"


def type_string():
    return "text"


def type_timestamp():
    return "timestamp"
