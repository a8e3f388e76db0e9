// Micro-benchmarks of kidx's hot paths: posting-list block decoding, term lookup and
// tokenizing. Run from the repository root (release build):
//     swift package benchmark                      all, with time, instructions and mallocs
//     swift package benchmark --filter decode      some
import Benchmark
import Foundation
import Kidx

/// The sample corpus, from the working directory (`swift package benchmark` runs at the root).
let sampleCorpus = FileManager.default.currentDirectoryPath + "/Corpus"

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .instructions, .mallocCountTotal, .throughput]
    let postings = try! BenchmarkFixtures.PostingsDecode(documents: 1_000_000)
    let terms = try! BenchmarkFixtures.TermLookup(terms: 200_000)
    let tokenizing = try! BenchmarkFixtures.Tokenizing(folder: sampleCorpus)

    Benchmark("decode 1M postings (docs, freqs)", configuration: .init(metrics: metrics, scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try postings.run(positions: false)) }
    }
    Benchmark("decode 1M postings with positions", configuration: .init(metrics: metrics, scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try postings.run(positions: true)) }
    }
    Benchmark("skip through 1M postings (advance to every 64th)", configuration: .init(metrics: metrics, scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try postings.runSkipping()) }
    }
    Benchmark("1,000 term lookups in 200,000 terms", configuration: .init(metrics: metrics, scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try terms.run()) }
    }
    Benchmark("tokenize the sample corpus (\(tokenizing.bytes / 1024) KiB)", configuration: .init(metrics: metrics, scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(tokenizing.run()) }
    }
    Benchmark("tokenize and stem the sample corpus", configuration: .init(metrics: metrics, scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(tokenizing.runWithTerms()) }
    }
}
