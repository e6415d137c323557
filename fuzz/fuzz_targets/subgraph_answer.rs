#![no_main]
libfuzzer_sys::fuzz_target!(
    |data: &[u8]| if let Err(v) = weft::fuzzing::subgraph_answer(data) {
        panic!("{v}")
    }
);
