//! The micro fixture's generation goldens through the safe crate and the C ABI, with
//! the step callback: LLaDA2.1 editing (edit threshold, post steps) included. Tokens,
//! stop reason, forwards and every forward's commits and edits must agree with the
//! float64 reference (confidences within 1e-4, the goldens' README tolerance).

use std::path::PathBuf;

use dllm::{Callbacks, GenerateParams, LoadParams, Model};

/// Just enough JSON for the goldens (std only).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(s: &str) -> Json {
        let mut p = Parser {
            b: s.as_bytes(),
            i: 0,
        };
        p.value()
    }

    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&Json::Null, |(_, v)| v),
            _ => &Json::Null,
        }
    }

    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => &[],
        }
    }

    fn num(&self) -> f64 {
        match self {
            Json::Num(n) => *n,
            Json::Bool(b) => *b as i32 as f64,
            j => panic!("not a number: {j:?}"),
        }
    }

    fn int(&self) -> i32 {
        self.num() as i32
    }

    fn ints(&self) -> Vec<i32> {
        self.arr().iter().map(Json::int).collect()
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) -> u8 {
        while self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
        self.b[self.i]
    }

    fn expect(&mut self, c: u8) {
        assert_eq!(
            self.ws(),
            c,
            "JSON: expected {:?} at byte {}",
            c as char,
            self.i
        );
        self.i += 1;
    }

    // Escapes other than \" and \\ keep their letter: enough for keys and stop reasons.
    fn string(&mut self) -> String {
        self.expect(b'"');
        let mut out = Vec::new();
        while self.b[self.i] != b'"' {
            if self.b[self.i] == b'\\' {
                self.i += 1;
            }
            out.push(self.b[self.i]);
            self.i += 1;
        }
        self.i += 1;
        String::from_utf8_lossy(&out).into_owned()
    }

    fn list<T>(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> T) -> Vec<T> {
        self.i += 1;
        let mut v = Vec::new();
        while self.ws() != close {
            v.push(item(self));
            if self.ws() == b',' {
                self.i += 1;
            }
        }
        self.i += 1;
        v
    }

    fn value(&mut self) -> Json {
        let c = self.ws();
        let rest = &self.b[self.i..];
        match c {
            b'{' => Json::Obj(self.list(b'}', |p| {
                let k = p.string();
                p.expect(b':');
                (k, p.value())
            })),
            b'[' => Json::Arr(self.list(b']', Parser::value)),
            b'"' => Json::Str(self.string()),
            _ => {
                for (word, v) in [
                    ("null", Json::Null),
                    ("true", Json::Bool(true)),
                    ("false", Json::Bool(false)),
                ] {
                    if rest.starts_with(word.as_bytes()) {
                        self.i += word.len();
                        return v;
                    }
                }
                let start = self.i;
                while matches!(
                    self.b[self.i],
                    b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                ) {
                    self.i += 1;
                }
                let s = std::str::from_utf8(&self.b[start..self.i]).unwrap();
                Json::Num(
                    s.parse()
                        .unwrap_or_else(|_| panic!("JSON: bad number {s:?}")),
                )
            }
        }
    }
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/llada2-micro")
}

/// What one step callback saw, copied out of the event.
#[derive(Debug)]
struct Forward {
    block: i32,
    step: i32,
    post_step: i32,
    committed: Vec<(i32, i32, f64)>,
    edited: Vec<(i32, i32, i32, f64)>,
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-4
}

#[test]
fn v21_goldens_through_the_c_abi() {
    let m = Model::load_with(
        fixture().join("hf"),
        LoadParams {
            threads: 2,
            kv_cache_f16: false,
            no_repack: false,
        },
    )
    .unwrap();
    let mut s = m.session().unwrap();
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixture().join("golden"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("gen_v21_")
        })
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let g = Json::parse(&std::fs::read_to_string(&path).unwrap());
        let p = g.get("params");
        let params = GenerateParams::new()
            .max_tokens(p.get("gen_length").int())
            .block_length(p.get("block_length").int())
            .steps(p.get("steps").int())
            .threshold(p.get("threshold").num())
            .edit_threshold(p.get("editing_threshold").num())
            .max_post_steps(p.get("max_post_steps").int())
            .num_to_transfer(p.get("num_to_transfer").int())
            .eos_early_stop(p.get("eos_early_stop") == &Json::Bool(true))
            .stop_on_role_end(false); // the reference stops on end-of-text only
        let mut seen = Vec::new();
        let mut on_step = |ev: &dllm::StepEvent<'_>| {
            seen.push(Forward {
                block: ev.block,
                step: ev.step,
                post_step: ev.post_step,
                committed: ev
                    .committed
                    .iter()
                    .map(|c| (c.pos, c.token, c.confidence))
                    .collect(),
                edited: ev
                    .edited
                    .iter()
                    .map(|e| (e.pos, e.old_token, e.new_token, e.confidence))
                    .collect(),
            });
            true
        };
        let mut cbs = Callbacks {
            on_step: Some(&mut on_step),
            on_text: None,
        };
        let out = s
            .generate_ids_with(&g.get("prompt_ids").ints(), &params, &mut cbs)
            .unwrap();
        assert_eq!(out.tokens, g.get("output_ids").ints(), "{name}: tokens");
        assert_eq!(
            Json::Str(out.stop_reason.to_string()),
            *g.get("stop_reason"),
            "{name}: stop reason"
        );
        assert_eq!(
            out.stats.forwards,
            g.get("stats").get("forwards").int(),
            "{name}: forwards"
        );
        let trace = g.get("trace").arr();
        assert_eq!(seen.len(), trace.len(), "{name}: step events");
        for (i, (f, w)) in seen.iter().zip(trace).enumerate() {
            let at = format!("{name}: forward {i}");
            assert_eq!(
                (f.block, f.step, f.post_step),
                (
                    w.get("block").int(),
                    w.get("step").int(),
                    w.get("post_step").int()
                ),
                "{at}"
            );
            let wc = w.get("committed").arr();
            let we = w.get("edited").arr();
            assert_eq!(
                (f.committed.len(), f.edited.len()),
                (wc.len(), we.len()),
                "{at}: commits, edits"
            );
            for (c, w) in f.committed.iter().zip(wc) {
                let w = w.arr();
                assert!(
                    c.0 == w[0].int() && c.1 == w[1].int() && close(c.2, w[2].num()),
                    "{at}: commit {c:?}, want {w:?}"
                );
            }
            for (e, w) in f.edited.iter().zip(we) {
                let w = w.arr();
                assert!(
                    e.0 == w[0].int()
                        && e.1 == w[1].int()
                        && e.2 == w[2].int()
                        && close(e.3, w[3].num()),
                    "{at}: edit {e:?}, want {w:?}"
                );
            }
        }
        let edits: usize = seen.iter().map(|f| f.edited.len()).sum();
        assert_eq!(
            edits as i32,
            g.get("stats").get("edits").int(),
            "{name}: edits"
        );
    }
}

/// LLaDA, LLaDA-MoE, Dream and RND1 from `Model::default_params` with the family options
/// reproduce the official code's goldens (testdata/families/<family>/golden), the output
/// cut after the first stop token as the library's result is.
#[test]
fn family_goldens_through_the_c_abi() {
    let families = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/families");
    type Set = fn(GenerateParams) -> GenerateParams;
    let cases: [(&str, &str, Set); 8] = [
        ("llada", "gen_lowconf_b8_s16", |p| {
            p.max_tokens(32).steps(16).block_length(8)
        }),
        ("llada", "gen_cfg1_greedy", |p| {
            p.max_tokens(16).steps(8).block_length(8).cfg_scale(1.0)
        }),
        ("llada", "fast_dual_cache_steps", |p| {
            p.max_tokens(32).steps(16).block_length(8).cache("dual")
        }),
        ("llada-moe", "gen_random_remask_seed1", |p| {
            p.max_tokens(16)
                .steps(8)
                .block_length(8)
                .algorithm("random")
                .seed(1)
        }),
        ("dream", "gen_topk_margin_greedy", |p| {
            p.max_tokens(24)
                .steps(12)
                .algorithm("topk_margin")
                .temperature(0.0)
                .top_p(1.0)
        }),
        ("dream", "gen_entropy_greedy_eps01", |p| {
            p.max_tokens(16)
                .steps(8)
                .eps(0.1)
                .temperature(0.0)
                .top_p(1.0)
        }),
        ("dream", "fast_prefix_cache_entropy_steps", |p| {
            p.max_tokens(32)
                .steps(16)
                .block_length(8)
                .top_k(50)
                .temperature(0.0)
                .top_p(1.0)
                .cache("prefix")
        }),
        ("rnd1", "gen_greedy_t1_eb_gamma05", |p| {
            p.max_tokens(24).steps(12).eb_gamma(0.5)
        }),
    ];
    for (family, name, set) in cases {
        let m = Model::load_with(
            families.join(family).join("hf"),
            LoadParams {
                threads: 1,
                kv_cache_f16: false,
                no_repack: true, // these files have no Q4_K matrix: the same answers
            },
        )
        .unwrap();
        let info = m.info().unwrap();
        assert_eq!(info.architecture, family);
        let path = families
            .join(family)
            .join("golden")
            .join(format!("{name}.json"));
        let g = Json::parse(&std::fs::read_to_string(&path).unwrap());
        let params = set(m.default_params().unwrap());
        let mut s = m.session().unwrap();
        let mut last = Vec::new();
        let mut on_step = |ev: &dllm::StepEvent<'_>| {
            last = ev.canvas.to_vec();
            true
        };
        let mut cbs = Callbacks {
            on_step: Some(&mut on_step),
            on_text: None,
        };
        let out = s
            .generate_ids_with(&g.get("prompt_ids").ints(), &params, &mut cbs)
            .unwrap();
        let full = g.get("output_ids").ints();
        let mut stops = vec![info.eos_id, info.role_end_id];
        if family == "rnd1" {
            stops.push(1018); // its pad
        }
        let want = match full.iter().position(|t| stops.contains(t)) {
            Some(i) => full[..=i].to_vec(),
            None => full.clone(),
        };
        assert_eq!(out.tokens, want, "{family}/{name}: tokens");
        assert_eq!(last, full, "{family}/{name}: the last step's canvas");
    }
    let m = Model::load(families.join("dream").join("hf")).unwrap();
    let err = m
        .session()
        .unwrap()
        .generate_ids(&[300, 301], &m.default_params().unwrap().cfg_scale(1.0))
        .unwrap_err();
    assert_eq!(err.status, dllm::Status::InvalidArgument);
    assert!(
        err.message.contains("CFGScale is not an option of Dream"),
        "{}",
        err.message
    );
    let err = m
        .session()
        .unwrap()
        .generate_ids(&[300, 301], &m.default_params().unwrap().cache("full"))
        .unwrap_err();
    assert_eq!(err.status, dllm::Status::InvalidArgument);
    assert!(err.message.contains("Cache must be"), "{}", err.message);
}
