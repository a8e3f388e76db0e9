import ArgumentParser
import Foundation
import Kidx

/// The in-process query protocol of ../shared/peers: warm up, time rounds, write top-k ids.
struct BenchQueries: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-queries",
        abstract: "Time a query file in-process (the peer harness protocol in ../shared/peers).")

    @OptionGroup var indexOptions: IndexOptions
    @Option(name: .long, help: "Query file, one query per line.") var queries: String
    @Option(name: .long, help: "or | and | all-first (words without an operator)") var mode = "or"
    @Flag(name: .long, help: "Read queries in the query syntax (default: plain words, as the peers do).") var syntax = false
    @Option(name: .long) var k = 10
    @Option(name: .long, help: "Minimum warm-up passes.") var warmup = 2
    @Option(name: .customLong("warmup-s"), help: "Minimum warm-up seconds.") var warmupSeconds = 3.0
    @Option(name: .long, help: "Timed rounds.") var rounds = 3
    @Option(name: .customLong("topk-out"), help: "Where to write the top-k ids as JSON.") var topkOut: String?

    func run() throws {
        try reportingErrors {
            guard let searchMode: SearchOptions.Mode = ["or": .any, "and": .all, "all-first": .allFirst][mode] else {
                print("PEER-RESULT {\"supported\": false}")
                return
            }
            guard let text = try? String(contentsOfFile: queries, encoding: .utf8) else { throw KidxError.io(path: queries, reason: "cannot read") }
            let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let openStart = DispatchTime.now()
            let reader = try IndexReader(directory: indexOptions.index)
            let searcher = Searcher(reader: reader)
            let openSeconds = Double(DispatchTime.now().uptimeNanoseconds - openStart.uptimeNanoseconds) / 1e9
            let options = SearchOptions(limit: k, mode: searchMode, loadDocuments: false, countsAllHits: false)

            // The peers' queries are plain words; `--syntax` reads them as query strings instead.
            // Analysis is part of the time measured, as it is for the peers.
            func runQuery(_ index: Int) -> [Int] {
                let line = lines[index]
                guard let query = syntax ? try? searcher.parse(line)
                        : try? Query(words: line, analyzer: searcher.analyzer, compoundParts: searcher.compoundParts) else { return [] }
                return (try? searcher.search(query, options: options).hits.map(\.doc)) ?? []
            }
            let warmStart = DispatchTime.now()
            var passes = 0
            while passes < warmup || Double(DispatchTime.now().uptimeNanoseconds - warmStart.uptimeNanoseconds) / 1e9 < warmupSeconds {
                for index in lines.indices { _ = runQuery(index) }
                passes += 1
            }
            let warmSeconds = Double(DispatchTime.now().uptimeNanoseconds - warmStart.uptimeNanoseconds) / 1e9
            var timings: [[UInt64]] = []
            var firstRound: [[Int]] = []
            for round in 0..<rounds {
                var times: [UInt64] = []
                for index in lines.indices {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let docs = runQuery(index)
                    times.append(DispatchTime.now().uptimeNanoseconds - start)
                    if round == 0 { firstRound.append(docs) }
                }
                timings.append(times)
            }
            if let topkOut {
                let ids = try reader.allIDs()
                let entries: [[String: Any]] = zip(lines, firstRound).map { line, docs in
                    ["q": line, "ids": docs.map { ids[$0] }]
                }
                let data = try JSONSerialization.data(withJSONObject: entries)
                try data.write(to: URL(fileURLWithPath: topkOut))
            }
            let result: [String: Any] = [
                "supported": true, "rounds_ns": timings, "open_s": openSeconds,
                "warmup": ["passes": passes, "seconds": warmSeconds],
                "config": ["engine": "kidx", "mode": mode, "ranking": "BM25 k1=1.2 b=0.75, MaxScore with block-max windows"],
            ]
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print("PEER-RESULT " + String(decoding: data, as: UTF8.self))
        }
    }
}
