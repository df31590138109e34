//! Summary statistics of a sample: median, mean, percentile.

/// The median: the middle value, or the mean of the two middle values of an even
/// count (as Python's `statistics.median`). NaN for an empty sample.
pub fn median(v: &[f64]) -> f64 {
    let s = sorted(v);
    let n = s.len();
    let hi = s.get(n / 2).copied().unwrap_or(f64::NAN);
    if n % 2 == 1 {
        hi
    } else {
        let lo = n.checked_sub(2).and_then(|_| s.get(n / 2 - 1)).copied();
        lo.map_or(f64::NAN, |lo| (lo + hi) / 2.0)
    }
}

/// The arithmetic mean. NaN for an empty sample.
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The `p`-th quantile (0 ≤ p ≤ 1) by rank: the sorted value at index ⌊n·p⌋, the last
/// one for p = 1. NaN for an empty sample.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    let s = sorted(v);
    let i = ((s.len() as f64 * p) as usize).min(s.len().saturating_sub(1));
    s.get(i).copied().unwrap_or(f64::NAN)
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
        assert_eq!(median(&[7.0, 8.0]), 7.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn mean_of_values() {
        assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
        assert!(mean(&[]).is_nan());
    }

    #[test]
    fn percentile_by_rank() {
        let v: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 6.0);
        assert_eq!(percentile(&v, 0.9), 10.0);
        assert_eq!(percentile(&v, 0.99), 10.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 1.0), 10.0);
        assert_eq!(percentile(&[5.0], 0.99), 5.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
