//! One sort for the whole crate.
//!
//! Every `sort_by` with its own element type or comparator is a separate copy of the
//! standard library's sort, 3–4 KB of wasm each; the page had ten. Sorting indices
//! through one `dyn` comparator keeps a single copy, and the sorts here are all of
//! short lists (versions of a file, suggestions, keys of an object).

use std::cmp::Ordering;

/// The indices `0..len` in the order `cmp` gives (stable: ties keep index order).
pub fn sorted_indices(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    // The one place a std sort is allowed (clippy.toml bans it elsewhere in the page's crates).
    #[allow(clippy::disallowed_methods)]
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// Sorts `items` by `cmp`, stably.
pub fn sort_by<T>(items: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_indices(items.len(), &|a, b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.iter().filter_map(|&i| slots[i].take()));
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn sorts_stably_like_the_standard_sort() {
        let mut x: u32 = 12345;
        for len in [0, 1, 2, 5, 31, 200] {
            let mut v: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    ((x >> 16) % 7, i)
                })
                .collect();
            let mut expected = v.clone();
            // The reference the one sort is checked against.
            #[allow(clippy::disallowed_methods)]
            expected.sort_by_key(|p| p.0);
            sort_by(&mut v, |a, b| a.0.cmp(&b.0));
            assert_eq!(v, expected);
        }
    }
}
