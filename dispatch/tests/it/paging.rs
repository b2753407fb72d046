//! `GET /api/calls` a page at a time: paging with random limits (seeds printed) through
//! every call, a status and a `since`, gets each call exactly once, in order; the default
//! and largest page; bad limits and cursors; a crew still sees only its current call.

use serde_json::{json, Value};

use crate::helpers::{client, post, shared_router, start, ADMIN, CREW_A1, DISPATCHER};

/// A small deterministic generator (xorshift64*), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// One page: the calls and the next cursor.
async fn page(c: &reqwest::Client, url: &str) -> (Vec<Value>, Option<String>) {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{url}");
    let next = r
        .headers()
        .get("x-next-cursor")
        .map(|v| v.to_str().unwrap().to_string());
    let calls: Value = r.json().await.unwrap();
    (calls.as_array().unwrap().clone(), next)
}

/// Every call of `query`, paged with limits drawn by `rng` (1 to `max`).
async fn page_through(
    c: &reqwest::Client,
    base: &str,
    query: &str,
    rng: &mut Rng,
    max: u64,
) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let limit = 1 + rng.below(max);
        let mut url = format!("{base}/api/calls?limit={limit}{query}");
        if let Some(cur) = &cursor {
            url.push_str(&format!("&cursor={cur}"));
        }
        let (calls, next) = page(c, &url).await;
        assert!(calls.len() as u64 <= limit, "{url}");
        assert!(
            next.is_none() || calls.len() as u64 == limit,
            "{url}: a short page has no next cursor"
        );
        ids.extend(calls.iter().map(|v| v["id"].as_u64().unwrap()));
        match next {
            Some(n) => cursor = Some(n),
            None => return ids,
        }
    }
    panic!("paging never ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_gets_every_call_once_in_order() {
    let s = start(shared_router("heidelberg")).await;
    let base = &s.base;
    let c = client(DISPATCHER);
    // Two crews take the first two calls; the others wait.
    for (id, lat, lon) in [("A1", 49.4093, 8.6937), ("A2", 49.3988, 8.6724)] {
        let (code, v) = post(
            &client(ADMIN),
            format!("{base}/api/crews"),
            json!({"id": id, "lat": lat, "lon": lon}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    const N: usize = 503;
    let priorities = ["emergency", "urgent", "non_urgent"];
    for i in 0..N {
        let (code, v) = post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": 49.41, "lon": 8.70, "priority": priorities[i % 3]}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }

    // The default page is 500 calls; the largest, 5,000.
    let (first, next) = page(&c, &format!("{base}/api/calls")).await;
    assert_eq!(first.len(), 500);
    let next = next.expect("more than one page");
    let (rest, last) = page(&c, &format!("{base}/api/calls?cursor={next}")).await;
    assert_eq!(rest.len(), N - 500);
    assert_eq!(last, None);
    let (all, none) = page(&c, &format!("{base}/api/calls?limit=5000")).await;
    assert_eq!(all.len(), N);
    assert_eq!(none, None);
    let every: Vec<u64> = all.iter().map(|v| v["id"].as_u64().unwrap()).collect();
    assert!(every.windows(2).all(|w| w[0] < w[1]), "oldest first");
    let ids_where = |keep: &dyn Fn(&Value) -> bool| -> Vec<u64> {
        all.iter()
            .filter(|v| keep(v))
            .map(|v| v["id"].as_u64().unwrap())
            .collect()
    };
    let queued = ids_where(&|v| v["status"] == "queued");
    // Two crews hold two calls (a diversion may have changed which).
    assert_eq!(queued.len(), N - 2, "{all:?}");
    let since = all[N / 3]["times"]["received"].as_i64().unwrap();
    let recent = ids_where(&|v| v["times"]["received"].as_i64().unwrap() >= since);
    assert!(recent.len() >= N - N / 3, "{} since {since}", recent.len());

    for seed in 1..=4u64 {
        eprintln!("paging seed {seed}");
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
        let max = [1, 7, 60, 600][seed as usize - 1];
        assert_eq!(
            page_through(&c, base, "", &mut rng, max).await,
            every,
            "seed {seed}"
        );
        assert_eq!(
            page_through(&c, base, "&status=queued", &mut rng, max).await,
            queued,
            "seed {seed}"
        );
        assert_eq!(
            page_through(&c, base, &format!("&since={since}"), &mut rng, max).await,
            recent,
            "seed {seed}"
        );
        let got = page_through(
            &c,
            base,
            &format!("&since={since}&status=queued"),
            &mut rng,
            max,
        )
        .await;
        let want: Vec<u64> = queued
            .iter()
            .copied()
            .filter(|id| recent.contains(id))
            .collect();
        assert_eq!(got, want, "seed {seed}");
    }

    // A call made while paging comes on a later page.
    let (part, cursor) = page(&c, &format!("{base}/api/calls?limit=100")).await;
    assert_eq!(part.len(), 100);
    let (code, made) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": 49.41, "lon": 8.70, "priority": "urgent"}),
    )
    .await;
    assert_eq!(code, 201);
    let (rest, none) = page(
        &c,
        &format!("{base}/api/calls?limit=5000&cursor={}", cursor.unwrap()),
    )
    .await;
    assert_eq!(none, None);
    assert_eq!(rest.len(), N + 1 - 100);
    assert_eq!(rest.last().unwrap()["id"], made["id"]);

    // Bad limits (422) and cursors (400) name the parameter.
    for (query, status, field) in [
        ("limit=0", 422, "limit"),
        ("limit=5001", 422, "limit"),
        ("limit=x", 400, "limit"),
        ("cursor=abc", 400, "cursor"),
        ("cursor=-1", 400, "cursor"),
        ("cursor=%2B5", 400, "cursor"),
        ("cursor=000000000000000000000", 400, "cursor"),
        ("since=soon", 400, "since"),
    ] {
        let r = c
            .get(format!("{base}/api/calls?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], field, "{query}: {body}");
    }

    // A crew's token still sees its current call only, whatever the page.
    let crew = client(CREW_A1);
    let (own, next) = page(&crew, &format!("{base}/api/calls?limit=1")).await;
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(next, None);
    assert!(own[0].get("phone").is_none(), "{own:?}");
    let id = own[0]["id"].as_u64().unwrap();
    let (after, _) = page(&crew, &format!("{base}/api/calls?cursor={id}")).await;
    assert!(after.is_empty());
}
