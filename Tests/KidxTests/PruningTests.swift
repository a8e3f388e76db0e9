import Foundation
import Testing
@testable import Kidx

/// The pruned top-k engine (MaxScore with block-max windows) must return what scoring every
/// document returns.
@Suite("Top-k pruning")
struct PruningTests {
    /// Queries of every shape: the peer harness's set (rare and frequent words, two and three
    /// words, compounds) and the first known-item headlines (long queries).
    static func queries() throws -> [String] {
        let peers = try String(contentsOfFile: TestSupport.shared + "/peers/queries/fang_covid.txt", encoding: .utf8)
        let headlines = try String(contentsOfFile: TestSupport.shared + "/eval/known-item/dev-queries.tsv", encoding: .utf8)
        let long = headlines.split(separator: "\n").prefix(150).compactMap { $0.split(separator: "\t").last.map(String.init) }
        return peers.split(separator: "\n").map(String.init) + long + syntaxQueries
    }

    /// Queries in the query syntax: phrases, and exclusions (which conjunctions check per document).
    static let syntaxQueries = ["\"Robert Koch\"", "\"Angela Merkel\" Kanzlerin", "\"zweite Welle\" Herbst",
                                "Schule Corona -Maske", "Impfstoff Lieferung -Biontech", "+Lockdown Weihnachten -Silvester -Familie"]

    @Test("pruned top 10 equals exhaustive top 10 over 350 queries, OR, AND and all-words-first",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func prunedEqualsExhaustive() throws {
        let index = try #require(TestSupport.newsIndex, "could not build the news index")
        let (compared, nonEmpty) = try Self.compareWithExhaustive(Searcher(reader: try IndexReader(directory: index)), try Self.queries())
        #expect(compared >= 600)
        #expect(nonEmpty >= 400)
    }

    /// The news index's 2,000 documents fit in one window of the default width: narrowed to
    /// 128 ids, the loops move through 16 windows or more, skipping some and carrying their
    /// threshold and cursors from window to window, as on a full corpus.
    @Test("with narrow windows (128 ids) the pruned top 10 still equals exhaustive scoring",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func narrowWindowsEqualExhaustive() throws {
        let index = try #require(TestSupport.newsIndex, "could not build the news index")
        let searcher = Searcher(reader: try IndexReader(directory: index))
        for segment in searcher.segments { segment.minimumWindow = 128 }
        let peers = try String(contentsOfFile: TestSupport.shared + "/peers/queries/fang_covid.txt", encoding: .utf8)
        let (compared, nonEmpty) = try Self.compareWithExhaustive(searcher, peers.split(separator: "\n").map(String.init) + Self.syntaxQueries)
        #expect(compared >= 500)
        #expect(nonEmpty >= 300)
    }

    /// Ranks each of `queries` in every mode pruned and exhaustively and expects the same top
    /// 10; returns how many rankings were compared and how many had hits.
    static func compareWithExhaustive(_ searcher: Searcher, _ queries: [String]) throws -> (compared: Int, nonEmpty: Int) {
        var compared = 0, nonEmpty = 0
        for text in queries {
            // The peers' queries and the headlines are plain words.
            guard let query = syntaxQueries.contains(text) ? try? searcher.parse(text)
                    : try? Query(words: text, analyzer: searcher.analyzer, compoundParts: searcher.compoundParts) else { continue }
            for mode in SearchOptions.Mode.allCases {
                let pruned = try searcher.rank(query, k: 10, mode: mode)
                let exhaustive = try searcher.rankExhaustively(query, k: 10, mode: mode)
                #expect(pruned.total == exhaustive.total, "\(text) (\(mode)): \(pruned.total) vs \(exhaustive.total) hits")
                #expect(pruned.top.count == exhaustive.top.count, "\(text) (\(mode))")
                for (got, want) in zip(pruned.top, exhaustive.top) {
                    // Sums in another order may differ in the last bits: documents may trade
                    // places only when their scores are equal up to rounding.
                    #expect(abs(got.score - want.score) <= 1e-4 * max(1, want.score), "\(text) (\(mode)): \(got) vs \(want)")
                    if got.doc != want.doc {
                        let other = exhaustive.top.first { $0.doc == got.doc }
                        #expect(other.map { abs($0.score - got.score) <= 1e-4 * max(1, got.score) } == true, "\(text) (\(mode)): doc \(got.doc) not in the exhaustive top 10")
                    }
                }
                compared += 1
                if !exhaustive.top.isEmpty { nonEmpty += 1 }
            }
        }
        return (compared, nonEmpty)
    }

    /// Queries whose lists together hold few documents are ranked from the lists read whole
    /// (`TopDocuments.bestOfShortLists`) instead of by MaxScore; the others must be declined
    /// with nothing read. Both kinds are among the peers' queries on the news index.
    @Test("lists read whole when short give the exhaustive top 10; longer ones are left to MaxScore",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func shortListsEqualExhaustive() throws {
        let index = try #require(TestSupport.newsIndex, "could not build the news index")
        let searcher = Searcher(reader: try IndexReader(directory: index))
        try #require(searcher.segments.count == 1, "the news index is one segment")
        let segment = searcher.segments[0]
        let peers = try String(contentsOfFile: TestSupport.shared + "/peers/queries/fang_covid.txt", encoding: .utf8)
        var readWhole = 0, declined = 0
        for text in peers.split(separator: "\n").map(String.init) {
            let query = try Query(words: text, analyzer: searcher.analyzer, compoundParts: searcher.compoundParts)
            guard let (scorers, required) = try segment.summedScorers(query.root, unwritten: .should) else { continue }
            guard let top = try TopDocuments.bestOfShortLists(scorers, required: required, k: 10, above: -.infinity,
                                                              seeds: segment.accumulator, accept: { _ in true }) else {
                declined += 1
                #expect(segment.accumulator.touchedCount == 0, "\(text): declined after reading")
                continue
            }
            readWhole += 1
            let exhaustive = try searcher.rankExhaustively(query, k: 10, mode: .any).top
            #expect(top.count == exhaustive.count, "\(text)")
            for (got, want) in zip(top, exhaustive) {
                // Documents may trade places only where their scores are equal up to rounding.
                #expect(abs(got.score - want.score) <= 1e-4 * max(1, want.score), "\(text): \(got) vs \(want)")
                #expect(got.doc == want.doc || exhaustive.contains { $0.doc == got.doc && abs($0.score - got.score) <= 1e-4 * max(1, got.score) },
                        "\(text): doc \(got.doc) not in the exhaustive top 10")
            }
        }
        #expect(readWhole >= 20)
        #expect(declined >= 20)
    }

    @Test("the threshold the short lists prove before ranking never exceeds the 10th best score",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func provenThresholdIsAFloor() throws {
        let index = try #require(TestSupport.newsIndex, "could not build the news index")
        let searcher = Searcher(reader: try IndexReader(directory: index))
        let segment = try #require(searcher.segments.first)
        var proven = 0, provenRequired = 0
        for text in try Self.queries() where !text.hasPrefix("\"") {
            guard let query = try? Query(words: text, analyzer: searcher.analyzer, compoundParts: searcher.compoundParts) else { continue }
            // Any word, or all words (one required compound: its own lists are required).
            for (unwritten, mode) in [(Occur.should, SearchOptions.Mode.any), (.must, .all)] {
                guard let (scorers, required) = try segment.summedScorers(query.root, unwritten: unwritten) else { continue }
                let threshold = try TopDocuments.provenThreshold(scorers, required: required, k: 10, seeds: segment.accumulator) { _ in true }
                guard threshold > -.infinity else { continue }
                proven += 1
                if required.contains(true) { provenRequired += 1 }
                // Another segment can only raise the index's 10th score above this one's.
                let exhaustive = try searcher.rankExhaustively(query, k: 10, mode: mode).top
                #expect(exhaustive.count == 10, "\(text) (\(mode)): a proven threshold needs 10 documents")
                if exhaustive.count == 10 {
                    #expect(threshold < exhaustive[9].score, "\(text) (\(mode)): proven \(threshold), 10th score \(exhaustive[9].score)")
                }
            }
        }
        #expect(proven >= 250, "only \(proven) queries had a threshold proven")
        #expect(provenRequired >= 5, "only \(provenRequired) required compounds had a threshold proven")
    }

    /// Pruning is exact only while no bound falls below a score it bounds: a list's bound over
    /// all its documents and over each window must cover every score in them.
    @Test("every stem list's bound covers its documents' scores, window by window; a list under 16 documents is bounded by its best score",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func listBoundsCoverScores() throws {
        let index = try #require(TestSupport.newsIndex, "could not build the news index")
        let searcher = Searcher(reader: try IndexReader(directory: index))
        let segment = try #require(searcher.segments.first)
        var lists = 0, short = 0, long = 0
        try segment.reader.terms.forEachEntry { key, info in
            guard let field = key.first.flatMap(Field.init(rawValue:)), lists < 4_000 || info.docFreq >= 128 else { return }
            let scoring = try #require(segment.fieldScoring[field])
            let scorer = try TermScorer(segment.reader.cursor(info), weight: 1, scoring: scoring)
            var reading = try segment.reader.cursor(info)
            var best: Float = 0
            while try reading.next() {
                let score = scoring.score(freq: Float(reading.freq), weight: 1, doc: reading.doc)
                best = max(best, score)
                // The window from the scorer's document through this one (windows of 64 ids).
                let last = reading.doc | 63
                if scorer.doc < reading.doc { _ = try scorer.advance(to: reading.doc & ~63) }
                _ = scorer.advanceShallow(to: reading.doc)
                #expect(scorer.maxScore(upTo: last) >= score, "\(String(decoding: key.dropFirst(), as: UTF8.self)): doc \(reading.doc)")
            }
            #expect(scorer.maxScore >= best)
            if info.docFreq < 16 {
                #expect(abs(scorer.maxScore - best) <= 1e-3 * best, "\(String(decoding: key.dropFirst(), as: UTF8.self)): bound \(scorer.maxScore), best \(best)")
                short += 1
            } else if info.docFreq >= 128 {
                long += 1
            }
            lists += 1
        }
        #expect(short >= 1_000 && long >= 20, "\(short) short and \(long) long lists checked")
    }

    @Test("deep pages (top 500 of a two-word query) agree with exhaustive scoring",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func deepPages() throws {
        let index = try #require(TestSupport.newsIndex, "could not build the news index")
        let searcher = Searcher(reader: try IndexReader(directory: index))
        // Large k: the heap fills late and pruning starts late; results must still agree.
        let query = try Query(words: "Maskenpflicht Schulen", analyzer: searcher.analyzer, compoundParts: searcher.compoundParts)
        let pruned = try searcher.rank(query, k: 500, mode: .any)
        let exhaustive = try searcher.rankExhaustively(query, k: 500, mode: .any)
        #expect(pruned.top.count == 500)
        #expect(zip(pruned.top, exhaustive.top).allSatisfy { abs($0.score - $1.score) <= 1e-4 * max(1, $1.score) })
    }
}
