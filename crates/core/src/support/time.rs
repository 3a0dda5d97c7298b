//! Calendar arithmetic the JS libraries do with `Date` in UTC: `nextMonth()`,
//! `nextYear()` (via `setMonth` / `setFullYear`, which overflow into the next month
//! when the day does not exist) and `toISOString()`.
//!
//! The core never reads a clock; callers pass milliseconds since the epoch.

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date. `day` may exceed the month's
/// length: the result then lands in the following month, as JS `Date` does.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Normalise month into 1..=12 first.
    let y0 = year + (month - 1).div_euclid(12);
    let m = (month - 1).rem_euclid(12) + 1;
    let y = if m <= 2 { y0 - 1 } else { y0 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (day - 1)
}

/// `(year, month 1..=12, day 1..=31)` of a day count since the epoch.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn add_months(ms: i64, months: i64) -> i64 {
    let days = ms.div_euclid(MS_PER_DAY);
    let within = ms.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    days_from_civil(y, m + months, d) * MS_PER_DAY + within
}

/// `nextMonth()` of `@stacks/common` evaluated in UTC: the same day and time one
/// calendar month later.
pub fn next_month_ms(now_ms: i64) -> i64 {
    add_months(now_ms, 1)
}

/// `nextYear()` in UTC: the same day and time one calendar year later.
pub fn next_year_ms(now_ms: i64) -> i64 {
    add_months(now_ms, 12)
}

/// `Date.prototype.toISOString()`: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso8601(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let within = ms.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        within / 3_600_000,
        within / 60_000 % 60,
        within / 1000 % 60,
        within % 1000
    )
}

/// Why an RFC 3339 timestamp was refused by [`parse_rfc3339`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeError {
    /// A date and time without `Z` or a `+hh:mm`/`-hh:mm` offset: its instant is unknown.
    NoZone,
    /// Not `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)`, or a field out of range.
    Format,
}

impl std::fmt::Display for TimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeError::NoZone => {
                "the time has no zone: end it with Z or an offset such as +02:00 (RFC 3339)"
            }
            TimeError::Format => {
                "the time is not an RFC 3339 date-time such as 2025-01-31T12:00:00Z"
            }
        })
    }
}

impl std::error::Error for TimeError {}

fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
}

/// Parses an RFC 3339 `date-time` (`2025-01-31T12:00:00Z`, `2025-01-31T12:00:00.5+02:00`;
/// `T` and `Z` in either case) into milliseconds since the epoch. Strict: four-digit
/// year, two-digit fields, real calendar dates, a zone is required; fractions beyond
/// milliseconds are truncated; a leap second (`:60`) counts as the next second.
pub fn parse_rfc3339(text: &str) -> Result<i64, TimeError> {
    let b = text.as_bytes();
    let format = TimeError::Format;
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(format);
    }
    let field = |r: std::ops::Range<usize>| digits(&b[r]).ok_or(format);
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(format),
    };
    if day < 1 || day > month_days || hour > 23 || minute > 59 || second > 60 {
        return Err(format);
    }
    let mut rest = &b[19..];
    let mut millis = 0;
    if let Some(after) = rest.strip_prefix(b".") {
        let n = after.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err(format);
        }
        let mut frac = after[..n.min(3)].to_vec();
        frac.resize(3, b'0');
        millis = digits(&frac).ok_or(format)?;
        rest = &after[n..];
    }
    let offset_minutes = match rest {
        [] => return Err(TimeError::NoZone),
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (
                digits(&[*h1, *h2]).ok_or(format)?,
                digits(&[*m1, *m2]).ok_or(format)?,
            );
            if h > 23 || m > 59 {
                return Err(format);
            }
            if *sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return Err(format),
    };
    let days = days_from_civil(year, month, day);
    let seconds = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60 + second;
    Ok(seconds * 1000 + millis)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn matches_js_date() {
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
        assert_eq!(next_month_ms(1_700_000_000_000), 1_702_592_000_000);
        assert_eq!(
            iso8601(next_year_ms(1_700_000_000_000)),
            "2024-11-14T22:13:20.000Z"
        );
        // 2024-01-31 + 1 month → 2024-03-02 (JS setMonth overflow in a leap year).
        let jan31 = days_from_civil(2024, 1, 31) * MS_PER_DAY;
        assert_eq!(iso8601(next_month_ms(jan31)), "2024-03-02T00:00:00.000Z");
        // 2024-02-29 + 1 year → 2025-03-01.
        let feb29 = days_from_civil(2024, 2, 29) * MS_PER_DAY + 5;
        assert_eq!(iso8601(next_year_ms(feb29)), "2025-03-01T00:00:00.005Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn rfc3339_strict() {
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(
            parse_rfc3339("2023-11-14t22:13:20.123z"),
            Ok(1_700_000_000_123)
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.1239Z"),
            Ok(1_700_000_000_123)
        );
        assert_eq!(
            parse_rfc3339("2023-11-15T00:13:20+02:00"),
            Ok(1_700_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T21:13:20-01:00"),
            Ok(1_700_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z")
                .map(iso8601)
                .as_deref(),
            Ok("2024-02-29T00:00:00.000Z")
        );
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20"), Err(TimeError::NoZone));
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.5"),
            Err(TimeError::NoZone)
        );
        for bad in [
            "",
            "2023-11-14",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-11-14 22:13:20Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+0200",
            "2023-11-14T22:13:20+02",
            "+023-11-14T22:13:20Z",
            "2023-1-14T22:13:20Z",
            "2023-11-14T22:13:20ZZ",
            "2023-11-14T22:13:20+24:00",
            "２023-11-14T22:13:20Z",
        ] {
            assert_eq!(parse_rfc3339(bad), Err(TimeError::Format), "{bad}");
        }
    }
}
