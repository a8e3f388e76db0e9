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
    @Option(name: .long, help: "or | and") var mode = "or"
    @Option(name: .long) var k = 10
    @Option(name: .long, help: "Minimum warm-up passes.") var warmup = 2
    @Option(name: .customLong("warmup-s"), help: "Minimum warm-up seconds.") var warmupSeconds = 3.0
    @Option(name: .long, help: "Timed rounds.") var rounds = 3
    @Option(name: .customLong("topk-out"), help: "Where to write the top-k ids as JSON.") var topkOut: String?

    func run() throws {
        try reportingErrors {
            guard let searchMode: SearchOptions.Mode = ["or": .any, "and": .all][mode] else {
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

            func runQuery(_ line: String) -> [Int] {
                (try? searcher.search(line, options: options).hits.map(\.doc)) ?? []
            }
            let warmStart = DispatchTime.now()
            var passes = 0
            while passes < warmup || Double(DispatchTime.now().uptimeNanoseconds - warmStart.uptimeNanoseconds) / 1e9 < warmupSeconds {
                for line in lines { _ = runQuery(line) }
                passes += 1
            }
            let warmSeconds = Double(DispatchTime.now().uptimeNanoseconds - warmStart.uptimeNanoseconds) / 1e9
            var timings: [[UInt64]] = []
            var firstRound: [[Int]] = []
            for round in 0..<rounds {
                var times: [UInt64] = []
                for line in lines {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let docs = runQuery(line)
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
