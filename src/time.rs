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
}
