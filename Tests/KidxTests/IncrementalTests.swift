import Foundation
import Testing
@testable import Kidx

@Suite("Incremental indexing: segments, updates, deletions, merges")
struct IncrementalTests {
    /// Indexes `documents` in `steps` commits of about equal size (the first a new index).
    private static func buildInSteps(_ documents: [Document], steps: Int, at index: String, options: AnalyzerOptions) throws -> [CommitSummary] {
        var summaries: [CommitSummary] = []
        for step in 0..<steps {
            let writer = try IndexWriter(directory: index, options: options, mode: .update)
            try writer.add(contentsOf: Array(documents[(documents.count * step / steps)..<(documents.count * (step + 1) / steps)]))
            summaries.append(try writer.commit())
        }
        return summaries
    }

    private static func buildAtOnce(_ documents: [Document], at index: String, options: AnalyzerOptions) throws {
        let writer = try IndexWriter(directory: index, options: options)
        try writer.add(contentsOf: documents)
        try writer.commit()
    }

    /// Queries from the documents' headlines: their first two longer words.
    private static func queries(_ documents: [Document], count: Int) -> [String] {
        let step = max(1, documents.count / count)
        return stride(from: 0, to: documents.count, by: step).compactMap { index in
            let words: [String] = documents[index].title.split(whereSeparator: { !$0.isLetter && $0 != "-" }).filter { $0.count > 4 }.map(String.init)
            return words.isEmpty ? nil : Array(words.prefix(2)).joined(separator: " ")
        }
    }

    /// The top hits of `query` as ids with scores, in every mode and by date.
    private static func rankings(_ searcher: Searcher, _ query: String) throws -> [[(id: String, score: Float)]] {
        var result: [[(id: String, score: Float)]] = []
        for options in SearchOptions.Mode.allCases.map({ SearchOptions(limit: 10, mode: $0) }) + [SearchOptions(limit: 10, sort: .date)] {
            let hits = try searcher.search(query, options: options).hits
            result.append(hits.map { ($0.document?.id ?? "?", $0.score) })
        }
        return result
    }

    /// Whether two rankings agree: the same scores rank by rank, and the same documents except
    /// among equal scores (summing in another order may round the last bit differently).
    private static func agree(_ a: [(id: String, score: Float)], _ b: [(id: String, score: Float)]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where abs(x.score - y.score) > 1e-4 * max(1, abs(x.score)) { return false }
        for (rank, (x, y)) in zip(a, b).enumerated() where x.id != y.id {
            let tied = a.indices.filter { abs(a[$0].score - x.score) <= 1e-4 * max(1, abs(x.score)) }
            guard Set(tied.map { a[$0].id }) == Set(tied.filter { $0 < b.count }.map { b[$0].id }) || tied.contains(a.count - 1) || rank == a.count - 1 else { return false }
        }
        return true
    }

    private static func compare(_ documents: [Document], queries: [String], options: AnalyzerOptions) throws -> (agreeing: Int, total: Int, segments: Int) {
        let once = try TestSupport.temporaryFolder("once"), steps = try TestSupport.temporaryFolder("steps")
        defer { for folder in [once, steps] { try? FileManager.default.removeItem(atPath: folder) } }
        try buildAtOnce(documents, at: once, options: options)
        let summaries = try buildInSteps(documents, steps: 10, at: steps, options: options)
        let a = Searcher(reader: try IndexReader(directory: once)), b = Searcher(reader: try IndexReader(directory: steps))
        #expect(a.reader.documentCount == b.reader.documentCount)
        let (agreeing, total) = try agreement(a, b, queries: queries)
        return (agreeing, total, summaries.last!.segments)
    }

    /// How many of the rankings of `queries` (every order) agree between two searchers, of how many.
    private static func agreement(_ a: Searcher, _ b: Searcher, queries: [String]) throws -> (agreeing: Int, total: Int) {
        var agreeing = 0, total = 0
        for query in queries {
            guard let x = try? rankings(a, query) else { continue }
            for (p, q) in zip(x, try rankings(b, query)) {
                total += 1
                if agree(p, q) { agreeing += 1 } else if total - agreeing <= 3 { print("differs: \(query)\n  \(p)\n  \(q)") }
            }
        }
        return (agreeing, total)
    }

    /// Stages that read no corpus-wide evidence: only the segmentation can change a ranking.
    private static let evidenceFree = AnalyzerOptions(decompounding: false, protectNames: false)

    @Test("one build or ten increments: the same ranking (index-wide BM25 statistics) on the sample corpus")
    func sameRankingSample() throws {
        var documents: [Document] = []
        try CorpusReader(root: TestSupport.sampleCorpus).read({ document, _ in documents.append(document) }, problem: { _ in })
        let result = try Self.compare(documents, queries: ["Sanktionen", "Nordkorea Atomwaffen", "Strasse", "\"Kim Jong Un\"", "Bundesliga OR Trikot", "Impf*"] + Self.queries(documents, count: 30),
                                      options: Self.evidenceFree)
        #expect(result.segments > 1)
        #expect(result.agreeing == result.total, "\(result)")
    }

    @Test("one build or ten increments: the same ranking on 2,000 news articles, 200 queries in four orders",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func sameRankingNews() throws {
        let documents = try #require(TestSupport.newsDocuments)
        let result = try Self.compare(documents, queries: Self.queries(documents, count: 200), options: Self.evidenceFree)
        #expect(result.segments > 1)
        #expect(result.total >= 600)
        #expect(result.agreeing == result.total, "\(result)")
    }

    @Test("with corpus-wide evidence (compounds, names): increments use the index's evidence; optimize gives the one-shot index byte for byte (1,000 news articles)",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func optimizeEqualsOneShot() throws {
        let documents = Array(try #require(TestSupport.newsDocuments).prefix(1_000))
        let once = try TestSupport.temporaryFolder("once"), steps = try TestSupport.temporaryFolder("steps")
        defer { for folder in [once, steps] { try? FileManager.default.removeItem(atPath: folder) } }
        try Self.buildAtOnce(documents, at: once, options: .default)
        let summaries = try Self.buildInSteps(documents, steps: 10, at: steps, options: .default)
        // The evidence is gathered afresh when the index doubles: after steps 1, 2, 4 and 8.
        #expect(summaries.map(\.reanalyzed) == [true, true, false, true, false, false, false, true, false, false])
        let a = Searcher(reader: try IndexReader(directory: once)), b = Searcher(reader: try IndexReader(directory: steps))
        var overlap = 0, total = 0
        for query in Self.queries(documents, count: 200) {
            guard let x = try? TestSupport.ids(a, query, limit: 10, mode: .allFirst) else { continue }
            let y = try TestSupport.ids(b, query, limit: 10, mode: .allFirst)
            overlap += Set(x).intersection(y).count
            total += x.count
        }
        print("top-10 overlap, one build vs ten increments before optimize: \(overlap) of \(total)")
        #expect(Double(overlap) >= 0.9 * Double(total))
        let writer = try IndexWriter(directory: steps, mode: .update)
        let summary = try writer.optimize()
        #expect(summary.segments == 1 && summary.documents == documents.count)
        for kind in IndexFormat.Kind.segmentFiles + [.analysis] {
            let x = FileManager.default.contents(atPath: try TestSupport.indexFile(once, kind))
            let y = FileManager.default.contents(atPath: try TestSupport.indexFile(steps, kind, segment: Manifest.segmentName(try IndexReader(directory: steps).manifest.nextSegment - 1)))
            #expect(x != nil && x == y, "\(kind.fileName)")
        }
    }

    @Test("an update indexes new and changed documents, skips unchanged ones, and deleted ones vanish everywhere")
    func updatesAndDeletions() throws {
        let index = try TestSupport.temporaryFolder("update")
        defer { try? FileManager.default.removeItem(atPath: index) }
        var documents: [Document] = []
        try CorpusReader(root: TestSupport.sampleCorpus).read({ document, _ in documents.append(document) }, problem: { _ in })
        try TestSupport.buildIndex(documents, at: index)
        let before = try IndexReader(directory: index)
        let generation = before.generation
        let sanctions = try TestSupport.ids(Searcher(reader: before), "Sanktionen")
        #expect(sanctions.count >= 3)

        // Nothing changed: no new generation.
        do {
            let writer = try IndexWriter(directory: index, mode: .update)
            #expect(try writer.add(contentsOf: documents).allSatisfy { $0 == .unchanged })
            #expect(try writer.commit().generation == (generation as NSString).lastPathComponent)
        }
        // One article corrected, one withdrawn, one new.
        var corrected = try #require(documents.first { $0.id == sanctions[0] })
        corrected.body = "Korrigierte Fassung: Der Wettbewerb um den besten Quarkstrudel wurde vertagt."
        let withdrawn = sanctions[1]
        let fresh = Document(id: "neu/quarkstrudel", title: "Quarkstrudel", body: "Der Quarkstrudel des Jahres.", date: "2030-01-01")
        do {
            let writer = try IndexWriter(directory: index, mode: .update)
            #expect(try writer.add(contentsOf: [corrected, fresh, documents[5]]) == [.replaced, .added, .unchanged])
            #expect(writer.delete(id: withdrawn))
            #expect(!writer.delete(id: "gibt-es-nicht"))
            let summary = try writer.commit()
            #expect(summary.documents == documents.count && summary.deleted == 2 && summary.segments == 2)
        }
        let reader = try IndexReader(directory: index)
        let searcher = Searcher(reader: reader)
        #expect(reader.documentCount == documents.count)
        let now = try TestSupport.ids(searcher, "Sanktionen")
        #expect(!now.contains(corrected.id) && !now.contains(withdrawn))
        #expect(Set(now) == Set(sanctions).subtracting([corrected.id, withdrawn]))
        #expect(try searcher.search("Sanktionen", options: SearchOptions(mode: .any)).totalHits == now.count)
        #expect(try TestSupport.ids(searcher, "Quarkstrudel").sorted() == [corrected.id, "neu/quarkstrudel"].sorted())
        #expect(try searcher.search("Quarkstrudel", options: SearchOptions(sort: .date)).hits.first?.document?.id == "neu/quarkstrudel")
        #expect(try reader.document(id: corrected.id).body == corrected.body)
        #expect(throws: KidxError.documentNotFound(id: withdrawn)) { try reader.document(id: withdrawn) }
        try reader.verify()

        // A corpus without some documents: they are deleted (what `kidx build` does).
        do {
            let writer = try IndexWriter(directory: index, mode: .update)
            let kept = Set(documents.prefix(10).map(\.id))
            #expect(writer.deleteDocuments(notIn: kept) == reader.documentCount - 10)
            try writer.commit()
        }
        let after = try IndexReader(directory: index)
        #expect(after.documentCount == 10)
        // Mostly deleted segments are rewritten without their deleted documents.
        #expect(after.manifest.segments.allSatisfy { $0.deleted * 2 <= $0.documents })
        #expect(try TestSupport.ids(Searcher(reader: after), "Sanktionen", mode: .any).allSatisfy { documents.prefix(10).map(\.id).contains($0) })
    }

    @Test("a merge drops deleted documents list by list and ranks as a fresh build of the rest (1,000 news articles)",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func mergeDropsDeleted() throws {
        let documents = Array(try #require(TestSupport.newsDocuments).prefix(1_000))
        let kept = documents.enumerated().filter { $0.offset % 5 >= 3 }.map(\.element)
        let merged = try TestSupport.temporaryFolder("merged"), fresh = try TestSupport.temporaryFolder("fresh")
        defer { for folder in [merged, fresh] { try? FileManager.default.removeItem(atPath: folder) } }
        _ = try Self.buildInSteps(documents, steps: 2, at: merged, options: Self.evidenceFree)
        let writer = try IndexWriter(directory: merged, mode: .update)
        #expect(writer.deleteDocuments(notIn: Set(kept.map(\.id))) == documents.count - kept.count)
        let summary = try writer.commit()
        #expect(!summary.reanalyzed && summary.documents == kept.count)
        try Self.buildAtOnce(kept, at: fresh, options: Self.evidenceFree)
        let a = Searcher(reader: try IndexReader(directory: fresh)), b = Searcher(reader: try IndexReader(directory: merged))
        // Mostly deleted segments are merged away, their totals without the lengths they dropped.
        #expect(b.reader.manifest.segments.allSatisfy { $0.deleted == 0 } && b.reader.documentSlots == kept.count)
        var stored: [Document] = []
        for segment in b.reader.segments { try segment.store.forEach { _, document in stored.append(document) } }
        #expect(stored == kept)
        let (agreeing, total) = try Self.agreement(a, b, queries: Self.queries(kept, count: 100))
        #expect(total >= 250 && agreeing == total)
        try b.reader.verify()
    }

    @Test("many small commits keep the number of segments logarithmic, and every document findable")
    func mergePolicy() throws {
        let index = try TestSupport.temporaryFolder("merge")
        defer { try? FileManager.default.removeItem(atPath: index) }
        var documents: [Document] = []
        try CorpusReader(root: TestSupport.sampleCorpus).read({ document, _ in documents.append(document) }, problem: { _ in })
        try TestSupport.buildIndex(documents, at: index)
        var counts: [Int] = []
        for number in 0..<45 {
            let writer = try IndexWriter(directory: index, mode: .update)
            try writer.add(Document(id: "meldung-\(number)", title: "Meldung \(number)", body: "Kurzmeldung Nummer \(number) über Sanktionen."))
            counts.append(try writer.commit().segments)
        }
        // Single documents merge ten at a time; tens merge when there are ten of them.
        #expect(counts.max()! <= 1 + 9 + 9)
        #expect(counts.last! < 10)
        let reader = try IndexReader(directory: index)
        #expect(reader.documentCount == documents.count + 45)
        let found = try TestSupport.ids(Searcher(reader: reader), "Kurzmeldung", limit: 100, mode: .all)
        #expect(Set(found) == Set((0..<45).map { "meldung-\($0)" }))
        try reader.verify()
    }

    @Test("a searcher keeps its view while an update commits")
    func searcherKeepsView() throws {
        let index = try TestSupport.temporaryFolder("view")
        defer { try? FileManager.default.removeItem(atPath: index) }
        try TestSupport.buildIndex(of: TestSupport.sampleCorpus, at: index)
        let old = Searcher(reader: try IndexReader(directory: index))
        let before = try TestSupport.ids(old, "Sanktionen")
        let writer = try IndexWriter(directory: index, mode: .update)
        try writer.add(Document(id: "neu", title: "Sanktionen", body: "Sanktionen, Sanktionen."))
        writer.delete(id: before[0])
        try writer.commit()
        #expect(try TestSupport.ids(old, "Sanktionen") == before)
        let now = try TestSupport.ids(Searcher(reader: try IndexReader(directory: index)), "Sanktionen")
        #expect(now.first == "neu" && !now.contains(before[0]))
    }

    @Test("a build over its memory budget merges its parts into the segment a build in memory writes (1,000 news articles)",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func memoryBudget() throws {
        let documents = Array(try #require(TestSupport.newsDocuments).prefix(1_000))
        let whole = try TestSupport.temporaryFolder("whole"), budgeted = try TestSupport.temporaryFolder("budget")
        defer { for folder in [whole, budgeted] { try? FileManager.default.removeItem(atPath: folder) } }
        try Self.buildAtOnce(documents, at: whole, options: .default)
        let summary = try { () throws -> CommitSummary in
            let writer = try IndexWriter(directory: budgeted)
            writer.memoryBudget = 4 << 20
            for start in stride(from: 0, to: documents.count, by: 100) {
                try writer.add(contentsOf: Array(documents[start..<min(start + 100, documents.count)]))
            }
            return try writer.commit()
        }()
        #expect(summary.segments == 1 && summary.documents == documents.count)
        // Each part was spilled, finished from its spill file and merged: only the merged segment is left.
        let generation = try #require(try IndexDirectory(path: budgeted).currentGeneration())
        let files = try FileManager.default.subpathsOfDirectory(atPath: generation)
        #expect(!files.contains { $0.hasSuffix(IndexFormat.Kind.spill.fileName) || $0.hasSuffix(".spool") })
        #expect(files.filter { $0.hasSuffix(IndexFormat.Kind.store.fileName) }.count == 1)
        let a = Searcher(reader: try IndexReader(directory: whole)), b = Searcher(reader: try IndexReader(directory: budgeted))
        // The evidence is the same (gathered from every document's words), and so is the merged
        // segment, byte for byte, but for the stored blocks' boundaries.
        #expect(a.reader.manifest.analysis == b.reader.manifest.analysis)
        // Two parts at least (numbered 1 and 2), merged into a third.
        #expect(b.reader.manifest.nextSegment >= 4, "the budget cut the build into parts")
        let (inMemory, merged) = (a.reader.segments[0], b.reader.segments[0])
        for kind in [IndexFormat.Kind.terms, .postings, .positions, .norms, .documents] {
            let expected = FileManager.default.contents(atPath: inMemory.folder + "/" + kind.fileName)
            #expect(expected != nil && expected == FileManager.default.contents(atPath: merged.folder + "/" + kind.fileName), "\(kind.fileName)")
        }
        var stored: [Document] = []
        try merged.store.forEach { _, document in stored.append(document) }
        #expect(stored == documents)
        let (agreeing, total) = try Self.agreement(a, b, queries: Self.queries(documents, count: 100))
        #expect(total >= 250 && agreeing == total)
        // An update over the budget writes its segments with the index's evidence.
        let update = try IndexWriter(directory: budgeted, mode: .update)
        update.memoryBudget = 1 << 20
        let changed = documents.prefix(150).map { document -> Document in
            var document = document
            document.body += " Nachtrag."
            return document
        }
        try update.add(contentsOf: changed)
        let updated = try update.commit()
        #expect(!updated.reanalyzed && updated.documents == documents.count && updated.deleted == 150)
        try IndexReader(directory: budgeted).verify()
    }
}
