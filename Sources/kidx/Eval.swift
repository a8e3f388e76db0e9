import ArgumentParser
import Foundation
import Kidx

/// Known-item evaluation: run each query (as plain words, OR) and score where its relevant
/// document lands.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure ranking quality: MRR@10, P@1, Recall@10 and Recall@100 over queries with TREC qrels.",
        discussion: "Build the index first (for ../shared/eval/known-item: `kidx build --no-titles`); Tools/eval runs every analysis variant.")

    @OptionGroup var indexOptions: IndexOptions
    @Option(name: .long, help: "Queries: qid<TAB>text per line.") var queries: String
    @Option(name: .long, help: "TREC qrels: qid 0 docid relevance per line.") var qrels: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Option(name: .long, help: "How a headline's words combine: any | all-first | all (default any, as the peers run).")
    var mode: SearchOptions.Mode = .any
    @Option(name: .long, help: "Weight of a word found inside a compound (default 0.1).") var partBoost: Float?
    @Option(name: .long, help: "Weight of a compound's parts found near each other (default 0.05).") var nearBoost: Float?
    @Option(name: .long, help: "Weight of a query compound's parts found anywhere (default 0.4).") var compoundPartBoost: Float?
    @Option(name: .long, help: "Weight of each part of a hyphenated query word (default 0.4).") var hyphenPartBoost: Float?
    @Option(name: .long, help: "Weight of a compound's parts found inside other compounds, relative to the parts' (default 0: off).")
    var compoundPartInsideBoost: Float?
    @Option(name: .long, help: "Weight of the exact word form (default 0.3).") var exactBoost: Float?
    @Option(name: .long, help: "BM25 k1.") var k1: Float?
    @Option(name: .long, help: "BM25 b.") var b: Float?

    func run() throws {
        try reportingErrors {
            guard let queryText = try? String(contentsOfFile: queries, encoding: .utf8) else { throw KidxError.io(path: queries, reason: "cannot read") }
            guard let qrelText = try? String(contentsOfFile: qrels, encoding: .utf8) else { throw KidxError.io(path: qrels, reason: "cannot read") }
            var relevant: [String: Set<String>] = [:]
            for line in qrelText.split(separator: "\n") {
                let fields = line.split(whereSeparator: \.isWhitespace)
                guard fields.count >= 4, (Int(fields[3]) ?? 0) > 0 else { continue }
                relevant[String(fields[0]), default: []].insert(String(fields[2]))
            }
            let reader = try IndexReader(directory: indexOptions.index)
            var ranking = Searcher.Ranking()
            if let partBoost { ranking.partBoost = partBoost }
            if let nearBoost { ranking.nearBoost = nearBoost }
            if let compoundPartBoost { ranking.compoundPartBoost = compoundPartBoost }
            if let hyphenPartBoost { ranking.hyphenPartBoost = hyphenPartBoost }
            if let compoundPartInsideBoost { ranking.compoundPartInsideBoost = compoundPartInsideBoost }
            if let k1 { ranking.k1 = k1 }
            if let exactBoost { ranking.exactBoost = exactBoost }
            if let b { ranking.b = b }
            let searcher = Searcher(reader: reader, ranking: ranking)
            let documentIDs = try reader.allIDs()
            var reciprocalRank = 0.0, atOne = 0.0, atTen = 0.0, atHundred = 0.0
            var count = 0
            for line in queryText.split(separator: "\n") {
                guard let tab = line.firstIndex(of: "\t") else { continue }
                let qid = String(line[..<tab])
                guard let wanted = relevant[qid] else { continue }
                count += 1
                // Plain words, as the peers run them: a headline is not written in the query syntax.
                guard let query = try? Query(words: String(line[line.index(after: tab)...]), analyzer: searcher.analyzer, compoundParts: searcher.compoundParts),
                      let results = try? searcher.search(query, options: SearchOptions(limit: 100, mode: mode, loadDocuments: false, countsAllHits: false)) else { continue }
                let ids = results.hits.map { documentIDs[$0.doc] }
                guard let rank = ids.firstIndex(where: wanted.contains) else { continue }
                if rank < 10 { reciprocalRank += 1 / Double(rank + 1); atTen += 1 }
                if rank == 0 { atOne += 1 }
                atHundred += 1
            }
            let n = Double(max(count, 1))
            let metrics = ["queries": Double(count), "mrr@10": reciprocalRank / n, "p@1": atOne / n, "r@10": atTen / n, "r@100": atHundred / n]
            if json {
                Terminal.printJSON(metrics)
            } else {
                print(String(format: "queries %d  MRR@10 %.3f  P@1 %.3f  R@10 %.3f  R@100 %.3f",
                             count, metrics["mrr@10"]!, metrics["p@1"]!, metrics["r@10"]!, metrics["r@100"]!))
            }
        }
    }
}
