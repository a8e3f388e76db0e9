import Foundation
import Testing
@testable import Kidx

@Suite("Search on real articles")
struct SearchTests {
    /// An index of the two seed articles in ../shared (real German news on the Korea talks).
    private static func seedSearcher() throws -> (Searcher, String) {
        let index = try TestSupport.temporaryFolder("seeds")
        try TestSupport.buildIndex(of: TestSupport.shared + "/corpus/seeds", at: index)
        return (Searcher(reader: try IndexReader(directory: index)), index)
    }

    @Test("seed articles: Sanktionen, Sanktion, Pjoengjang, and the phrase Kim Jong Un",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func seeds() throws {
        let (searcher, index) = try Self.seedSearcher()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let both: Set = ["hanoi-gipfel", "singapur-stocken"]
        #expect(Set(try TestSupport.ids(searcher, "Sanktionen")) == both)
        #expect(try TestSupport.ids(searcher, "Sanktion") == TestSupport.ids(searcher, "Sanktionen"))
        #expect(try TestSupport.ids(searcher, "sanktionen") == TestSupport.ids(searcher, "Sanktionen"))
        // Both seeds write Pjöngjang; the other spellings must find them.
        #expect(Set(try TestSupport.ids(searcher, "Pjoengjang")) == both)
        #expect(Set(try TestSupport.ids(searcher, "Pjongjang")) == both)
        #expect(Set(try TestSupport.ids(searcher, "\"Kim Jong Un\"")) == both)
        #expect(try TestSupport.ids(searcher, "\"Un Jong Kim\"").isEmpty)
        #expect(try TestSupport.ids(searcher, "\"Jong Kim\"").isEmpty)
    }

    @Test("sample corpus: German analysis finds every spelling and form")
    func sampleCorpus() throws {
        let index = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let problems = try TestSupport.buildIndex(of: TestSupport.sampleCorpus, at: index)
        #expect(problems.isEmpty)
        let searcher = Searcher(reader: try IndexReader(directory: index))
        // Straße in one article, Strasse in another.
        let strasse = try TestSupport.ids(searcher, "Strasse")
        #expect(strasse.contains("regional/strassenbahn-neue-linie") && strasse.contains("wirtschaft/schweiz-detailhandel-innenstadt"))
        #expect(Set(strasse) == Set(try TestSupport.ids(searcher, "Straße")))
        // Pjöngjang and Pjoengjang meet.
        let pyongyang = Set(try TestSupport.ids(searcher, "Pjöngjang"))
        #expect(pyongyang.isSuperset(of: ["politik/nordkorea-atomwaffentests", "politik/korea-gipfel-seoul"]))
        #expect(pyongyang == Set(try TestSupport.ids(searcher, "Pjoengjang")))
        // Nordkorea finds Nordkoreas and Nord-Korea.
        let northKorea = Set(try TestSupport.ids(searcher, "Nordkorea"))
        #expect(northKorea.contains("politik/korea-gipfel-seoul"))  // writes Nord-Korea only
        #expect(northKorea.contains("agentur-001"))                 // writes Nordkoreas
        #expect(Set(try TestSupport.ids(searcher, "Korea")).contains("politik/korea-gipfel-seoul"))
        // Müller = Mueller.
        #expect(Set(try TestSupport.ids(searcher, "Mueller")) == Set(try TestSupport.ids(searcher, "Müller")))
    }

    @Test("key spaces add up to the index: terms, postings, both files' bytes; only stems have positions, not stop words'")
    func keySpaces() throws {
        let reader = try IndexReader(directory: try #require(TestSupport.sampleIndex))
        let spaces = try reader.keySpaceStatistics(), totals = reader.statistics()
        #expect(spaces.map(\.name) == ["title stems", "body stems", "title compound parts", "body compound parts",
                                       "title word forms", "body word forms", "outlets", "days"])
        #expect(spaces.reduce(0) { $0 + $1.terms } == totals.terms && spaces.reduce(0) { $0 + $1.postings } == totals.postings)
        #expect(spaces.reduce(0) { $0 + $1.postingBytes } == reader.segments[0].postingsFile.body.count)
        #expect(spaces.reduce(0) { $0 + $1.positionBytes } == reader.segments[0].positionsFile.body.count)
        #expect(spaces.allSatisfy { $0.name.hasSuffix("stems") == ($0.positionBytes > 0) })
        let die = try #require(try reader.segments[0].terms.lookup(Field.body.key("die")))
        #expect(die.docFreq > 10 && !die.hasPositions)
    }

    @Test("ranking: a title match outranks a body match, AND mode requires every word, paging")
    func ranking() throws {
        let index = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: index) }
        try TestSupport.buildIndex([
            Document(id: "body", title: "Bericht aus Brüssel", body: "Die EU beschließt neue Sanktionen gegen Russland und Belarus."),
            Document(id: "title", title: "Neue Sanktionen", body: "Die EU beschließt weitere Maßnahmen gegen Russland und Belarus."),
            Document(id: "other", title: "Wetter", body: "Sonne und Regen wechseln sich ab."),
        ], at: index)
        let searcher = Searcher(reader: try IndexReader(directory: index))
        #expect(try TestSupport.ids(searcher, "Sanktionen") == ["title", "body"])
        #expect(try TestSupport.ids(searcher, "Sanktionen Regen") .count == 3)
        #expect(try TestSupport.ids(searcher, "Sanktionen Regen", mode: .all).isEmpty)
        #expect(try TestSupport.ids(searcher, "Sanktionen Russland", mode: .all) == ["title", "body"])
        let page = try searcher.search("Sanktionen", options: SearchOptions(limit: 1, offset: 1))
        #expect(page.totalHits == 2 && page.hits.map { $0.document?.id } == ["body"])
    }

    @Test("snippets mark the matched words, offsets right after ß and umlauts")
    func snippets() throws {
        let index = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: index) }
        try TestSupport.buildIndex([
            Document(id: "a", title: "Straßenbau in Düsseldorf", body: "Die Großbaustelle auf der Königsallee: Die Straße bleibt bis März gesperrt, sagt Müller.")
        ], at: index)
        let hit = try #require(try Searcher(reader: IndexReader(directory: index)).search("Strasse Mueller").hits.first)
        let snippet = try #require(hit.snippet)
        let bytes = Array(snippet.text.utf8)
        #expect(snippet.highlights.map { String(decoding: bytes[$0], as: UTF8.self) } == ["Straße", "Müller"])
        let scalars = Array(snippet.text.unicodeScalars)
        #expect(snippet.scalarHighlights.map { String(String.UnicodeScalarView(scalars[$0])) } == ["Straße", "Müller"])
    }

    @Test("bad queries get a clear error")
    func badQueries() throws {
        let index = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: index) }
        try TestSupport.buildIndex([Document(id: "a", body: "Text")], at: index)
        let searcher = Searcher(reader: try IndexReader(directory: index))
        for query in ["", "   ", "und der die", "\"Kim Jong", "!!!"] {
            #expect(throws: KidxError.self) { try searcher.search(query) }
        }
    }

    @Test("documents analyzed on several threads in batches give the same index, byte for byte, as one at a time")
    func threadsBuildTheSameIndex() throws {
        var documents: [Document] = []
        try CorpusReader(root: TestSupport.sampleCorpus).read({ document, _ in documents.append(document) }, problem: { _ in })
        documents.append(documents[0])  // a duplicate id, refused in both
        var files: [[String: Data]] = []
        for threads in [1, 3] {
            let index = try TestSupport.temporaryFolder("threads\(threads)")
            defer { try? FileManager.default.removeItem(atPath: index) }
            let writer = try IndexWriter(directory: index, threads: threads)
            let added = threads == 1 ? try documents.map { try writer.add($0) } : try writer.add(contentsOf: documents)
            #expect(added.filter { $0 != .added }.count == 1 && added.last == .duplicate)
            try writer.commit()
            files.append(Dictionary(uniqueKeysWithValues: try (IndexFormat.Kind.segmentFiles + [.analysis]).map { kind in
                (kind.fileName, FileManager.default.contents(atPath: try TestSupport.indexFile(index, kind)) ?? Data())
            }))
        }
        #expect(files[0] == files[1])
        #expect(files[0]["postings.kdx"]?.isEmpty == false)
    }
}
