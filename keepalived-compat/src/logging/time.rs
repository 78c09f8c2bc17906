//! Times in log lines, without the C library's time zone machinery: UTC calendar fields for
//! syslog, and keepalived-compat's console stamp (`secs.micros`).

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC calendar time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    /// 1-12.
    pub(crate) month: u8,
    /// 1-31.
    pub(crate) day: u8,
    /// 0-23.
    pub(crate) hour: u8,
    /// 0-59.
    pub(crate) minute: u8,
    /// 0-59.
    pub(crate) second: u8,
}

/// `at` in UTC (the epoch for times before it).
pub(crate) fn civil(at: SystemTime) -> Civil {
    let secs = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (_, month, day) = civil_from_days(days);
    // Each value is below its bound by construction.
    let narrow = |v: u64| u8::try_from(v).unwrap_or(0);
    Civil {
        month: narrow(month),
        day: narrow(day),
        hour: narrow(rest / 3600),
        minute: narrow(rest / 60 % 60),
        second: narrow(rest % 60),
    }
}

/// The proleptic Gregorian date (year, month 1-12, day 1-31) of a count of days since
/// 1970-01-01 (H. Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The console and log file stamp: seconds since the epoch and microseconds.
pub(crate) fn stamp(at: SystemTime) -> String {
    let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn civil_times_are_utc() {
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        let c = civil(at(0));
        assert_eq!(
            (c.month, c.day, c.hour, c.minute, c.second),
            (1, 1, 0, 0, 0)
        );
        // 2024-02-29 23:59:59 (a leap day), 2026-12-02 08:38:40.
        let c = civil(at(1_709_251_199));
        assert_eq!(
            (c.month, c.day, c.hour, c.minute, c.second),
            (2, 29, 23, 59, 59)
        );
        let c = civil(at(1_796_200_720));
        assert_eq!(
            (c.month, c.day, c.hour, c.minute, c.second),
            (12, 2, 8, 38, 40)
        );
        assert_eq!(stamp(at(5) + Duration::from_micros(7)), "5.000007");
    }
}
