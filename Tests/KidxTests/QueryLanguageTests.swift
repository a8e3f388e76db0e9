import Foundation
import Testing
@testable import Kidx

/// Every construct of the query language on real news (the first 2,000 FANG-COVID articles),
/// checked against the articles' own text and metadata, and against the set algebra the
/// operators promise.
@Suite("Query language on real news", .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
struct QueryLanguageTests {
    let searcher: Searcher
    /// The articles by id.
    let documents: [String: Document]

    init() throws {
        let index = try #require(TestSupport.newsIndex, "could not build the news index")
        searcher = Searcher(reader: try IndexReader(directory: index))
        documents = Dictionary(uniqueKeysWithValues: try #require(TestSupport.newsDocuments).map { ($0.id, $0) })
    }

    /// All hits of `query` (ids, in order) and the total the search reports.
    func run(_ query: String, mode: SearchOptions.Mode = .allFirst, sort: SearchOptions.Sort = .score) throws -> (ids: [String], total: Int) {
        let results = try searcher.search(query, options: SearchOptions(limit: 3_000, mode: mode, sort: sort))
        #expect(results.hits.count == results.totalHits, "\(query): every hit returned")
        return (results.hits.compactMap { $0.document?.id }, results.totalHits)
    }

    /// A document's title and body as the oracle reads them: lowercased, soft hyphens
    /// (`zwei\u{AD}te`, which the analyzer reads through) removed.
    static func plain(_ document: Document) -> String {
        (document.title + "\n" + document.body).lowercased().replacingOccurrences(of: "\u{AD}", with: "")
    }

    func text(_ id: String) -> String { Self.plain(documents[id]!) }

    func ids(where predicate: (Document) -> Bool) -> Set<String> {
        Set(documents.values.filter(predicate).map(\.id))
    }

    @Test("AND, OR, NOT, + and - and parentheses obey set algebra")
    func booleanOperators() throws {
        let merkel = Set(try run("Merkel").ids), soeder = Set(try run("Söder").ids), bayern = Set(try run("Bayern").ids)
        #expect(merkel.count > 50 && soeder.count > 20)
        #expect(Set(try run("Merkel AND Söder").ids) == merkel.intersection(soeder))
        #expect(Set(try run("Merkel OR Söder").ids) == merkel.union(soeder))
        let merkelNotSoeder = Set(try run("Merkel NOT Söder").ids)
        #expect(merkelNotSoeder == merkel.subtracting(soeder))
        #expect(Set(try run("+Merkel -Söder").ids) == merkelNotSoeder)
        #expect(merkelNotSoeder.allSatisfy { !text($0).contains("söder") && !text($0).contains("soeder") })
        #expect(Set(try run("(Merkel OR Söder) AND Bayern").ids) == merkel.union(soeder).intersection(bayern))
        #expect(Set(try run("Bayern -(Merkel OR Söder)").ids) == bayern.subtracting(merkel.union(soeder)))
    }

    @Test("words without an operator: all-words-first puts every document with both words before the rest")
    func allWordsFirst() throws {
        let both = try run("Maskenpflicht Schulen", mode: .all).ids
        let either = try run("Maskenpflicht Schulen", mode: .any)
        let ranked = try run("Maskenpflicht Schulen")
        #expect(!both.isEmpty && either.total > both.count)
        #expect(ranked.total == either.total)
        #expect(ranked.ids.prefix(both.count) == both[...], "the documents with both words come first, in their own order")
        #expect(Set(ranked.ids) == Set(either.ids))
    }

    @Test("phrases match adjacent words only; proximity allows moves")
    func phrasesAndProximity() throws {
        let phrase = Set(try run("\"zweite Welle\"").ids)
        // Adjacent in the text (any inflection), as an oracle independent of the index.
        let adjacent = try Regex("zweit[a-z]*[ \\n]+welle")
        let written = ids { Self.plain($0).contains(adjacent) }
        let loose = try Regex("zweit[a-z]*[^a-zäöüß]+welle")
        #expect(phrase.count >= 10)
        #expect(written.isSubset(of: phrase), "missing: \(written.subtracting(phrase).sorted().prefix(5))")
        #expect(phrase.allSatisfy { text($0).contains(loose) }, "every hit has the words next to each other")
        let both = Set(try run("zweite AND Welle").ids)
        #expect(phrase.count < both.count)
        let near = Set(try run("\"Welle zweite\"~3").ids)
        #expect(phrase.isSubset(of: near) && near.isSubset(of: both))
        let reversed = try run("\"Welle zweite\"").ids
        #expect(reversed.count < phrase.count, "word order matters in a phrase")
    }

    @Test("a stop word in a phrase holds its place: its list has no positions, any word stands there")
    func phraseThroughStopWord() throws {
        let reader = try IndexReader(directory: try #require(TestSupport.newsIndex))
        let segment = reader.segments[0]
        func info(_ word: String) throws -> TermInfo? { try segment.terms.lookup(Field.body.key(reader.makeAnalyzer().queryTerms(of: word)[0])) }
        let stop = try #require(try info("der"))
        let content = try #require(try info("Welle"))
        #expect(!stop.hasPositions && content.hasPositions)
        let phrase = Set(try run("\"Ende der Woche\"").ids)
        let adjacent = try Regex("ende[ \\n]+der[ \\n]+woche")
        let written = ids { Self.plain($0).contains(adjacent) }
        #expect(written.count >= 3)
        #expect(written.isSubset(of: phrase), "missing: \(written.subtracting(phrase).sorted().prefix(5))")
        // Any one word between the two (`Ende dieser Woche`), in the text itself.
        let gap = try Regex("ende[^a-zäöüß]+[a-zäöüß]+[^a-zäöüß]+woche")
        #expect(phrase.allSatisfy { text($0).contains(gap) }, "every hit has one word between Ende and Woche")
        #expect(phrase.count < Set(try run("Ende AND Woche").ids).count)
        // A phrase of stop words alone: every document with both words.
        let stopPhrase = Set(try run("\"der die\" AND Impfstoff").ids)
        let allThree = Set(try run("der AND die AND Impfstoff").ids)
        #expect(!stopPhrase.isEmpty && stopPhrase == allThree)
    }

    @Test("a diphthong's u is no umlaut: Frau finds Frauen, Steuer finds Steuern")
    func diphthongs() throws {
        for (query, form) in [("Frau", "frauen"), ("Steuer", "steuern")] {
            let found = Set(try run(query, mode: .any).ids)
            let written = try Regex("(^|[^a-zäöüß])\(form)($|[^a-zäöüß])")
            let withForm = ids { Self.plain($0).contains(written) }
            #expect(withForm.count >= 5, "\(form) is in the news")
            #expect(withForm.isSubset(of: found), "\(query) misses \(withForm.subtracting(found).sorted().prefix(5))")
        }
    }

    @Test("a prefix finds every word form starting with it, through the dictionary")
    func prefix() throws {
        let results = try searcher.search("Sanktion*", options: SearchOptions(limit: 3_000))
        let alternatives = results.query.clauses[0].alternatives.map(\.word)
        #expect(alternatives.contains("sanktionen") && alternatives.allSatisfy { $0.hasPrefix("sanktion") })
        #expect(alternatives.count < searcher.ranking.maximumExpansions)
        let found = Set(results.hits.compactMap { $0.document?.id })
        let written = try Regex("(^|[^a-zäöüß])sanktion")
        #expect(found == ids { Self.plain($0).contains(written) })
        // Every highlight of a hit is a word form starting with the prefix.
        for hit in results.hits.prefix(20) {
            let snippet = try #require(hit.snippet)
            let bytes = Array(snippet.text.utf8)
            #expect(snippet.highlights.allSatisfy { String(decoding: bytes[$0], as: UTF8.self).lowercased().contains("sanktion") })
        }
        // A frequent prefix expands to the most frequent forms only.
        let frequent = try searcher.search("Ko*", options: SearchOptions(limit: 10, countsAllHits: false))
        #expect(frequent.query.clauses[0].alternatives.count == searcher.ranking.maximumExpansions)
        #expect(frequent.hits.count == 10)
    }

    @Test("a fuzzy word finds forms within its edits, closest first")
    func fuzzy() throws {
        #expect(try run("Pandemei").ids.isEmpty, "the misspelling itself is not in the corpus")
        let results = try searcher.search("Pandemei~1", options: SearchOptions(limit: 3_000))
        let alternatives = results.query.clauses[0].alternatives
        #expect(alternatives.first?.word == "pandemie" && alternatives.first?.edits == 1, "a swap of neighbours is one edit")
        let exact = Set(try run("Pandemie").ids)
        let fuzzy = Set(results.hits.compactMap { $0.document?.id })
        let written = try Regex("(^|[^a-zäöüß])pandemie([^a-zäöüß]|$)")
        #expect(ids { Self.plain($0).contains(written) }.isSubset(of: fuzzy))
        #expect(fuzzy.isSubset(of: exact))
        // An umlaut is one letter: `Soder` is one edit from `Söder`.
        let soeder = try Regex("(^|[^a-zäöüß])(söder|soeder)([^a-zäöüß]|$)")
        #expect(Set(try run("Soder~1").ids).isSuperset(of: ids { Self.plain($0).contains(soeder) }))
    }

    @Test("title: and body: restrict the field")
    func fields() throws {
        let title = try run("title:Lockdown").ids
        #expect(title.count >= 10)
        #expect(title.allSatisfy { documents[$0]!.title.lowercased().contains("lockdown") })
        let body = Set(try run("body:Lockdown").ids), anywhere = Set(try run("Lockdown").ids)
        #expect(body.union(title) == anywhere)
        #expect(Set(try run("title:(Lockdown Merkel)").ids).allSatisfy {
            let title = documents[$0]!.title.lowercased()
            return title.contains("lockdown") || title.contains("merkel")
        })
    }

    @Test("source: and date: filter, and --sort date orders newest first")
    func filters() throws {
        let all = Set(try run("Maskenpflicht").ids)
        let zeit = try run("Maskenpflicht source:zeit.de").ids
        #expect(!zeit.isEmpty && Set(zeit) == all.filter { documents[$0]!.source == "zeit.de" })
        #expect(Set(try run("Maskenpflicht -source:zeit.de").ids) == all.subtracting(zeit))
        #expect(Set(try run("Maskenpflicht source:ZEIT.de").ids) == Set(zeit), "outlets are matched without case")
        #expect(Set(try run("Maskenpflicht source:zeit*").ids) == Set(zeit))

        let options = SearchOptions(limit: 3_000, source: "zeit.de")
        #expect(Set(try searcher.search("Maskenpflicht", options: options).hits.compactMap { $0.document?.id }) == Set(zeit), "the library's filter option")
        let april = try run("Maskenpflicht date:2020-04").ids
        let inApril = SearchOptions(limit: 3_000, dates: DateRange(from: "2020-04-01", to: "2020-04-30"))
        #expect(Set(try searcher.search("Maskenpflicht", options: inApril).hits.compactMap { $0.document?.id }) == Set(april))
        #expect(!april.isEmpty && Set(april) == all.filter { documents[$0]!.date?.hasPrefix("2020-04") == true })
        #expect(Set(try run("Maskenpflicht date:2020-04-01..2020-04-30").ids) == Set(april))
        let late = try run("Maskenpflicht date:>=2020-11").ids
        #expect(Set(late) == all.filter { (documents[$0]!.date ?? "") >= "2020-11" })
        #expect(try run("date:2020-04 source:zeit.de").ids.allSatisfy {
            documents[$0]!.source == "zeit.de" && documents[$0]!.date?.hasPrefix("2020-04") == true
        }, "filters alone are a query too")

        // Sorted by date, the list holds the documents with the word (not those with its parts only).
        let byDate = try run("Maskenpflicht", sort: .date)
        #expect(byDate.total == (try run("Maskenpflicht", mode: .all)).total)
        let days = byDate.ids.map { String((documents[$0]!.date ?? "").prefix(10)) }
        #expect(days == days.sorted(by: >), "newest first")
    }

    @Test("explanations add up to the score and name the analyzed terms")
    func explain() throws {
        let results = try searcher.search("Impfstoffmangel Sanktion*", options: SearchOptions(limit: 40, mode: .any, explains: true))
        #expect(!results.hits.isEmpty)
        for hit in results.hits {
            let parts = try #require(hit.explanation)
            let sum = parts.reduce(0) { $0 + $1.score }
            #expect(abs(sum - hit.score) <= 1e-3 * max(1, hit.score), "\(parts) sums to \(sum), score \(hit.score)")
            #expect(parts.allSatisfy { $0.clause == "Impfstoffmangel" || $0.clause == "Sanktion*" })
        }
        #expect(results.hits.contains { $0.explanation!.contains { $0.match.contains("(near)") || $0.match.contains("(compound part)") } })
    }

    @Test("snippets join several passages when the words stand apart, marking each")
    func snippets() throws {
        let results = try searcher.search("Merkel Söder Impfstoff", options: SearchOptions(limit: 10, mode: .all))
        #expect(!results.hits.isEmpty)
        var joined = 0
        for hit in results.hits {
            let snippet = try #require(hit.snippet)
            #expect(snippet.text.utf8.count <= Highlighter.snippetLength * 3 / 2, "about 200 characters: \(snippet.text)")
            let bytes = Array(snippet.text.utf8)
            let marked = Set(snippet.highlights.map { String(decoding: bytes[$0], as: UTF8.self).lowercased() })
            #expect(!marked.isEmpty)
            if snippet.text.contains(" … ") { joined += 1 }
        }
        #expect(joined > 0, "some hit needs more than one passage")
    }

    @Test("a query built in code equals the parsed string")
    func programmaticQuery() throws {
        let expression = QueryExpression.group([
            QueryClause(occur: .must, expression: .word("Merkel", field: nil)),
            QueryClause(occur: .mustNot, expression: .word("Söder", field: nil)),
            QueryClause(occur: .must, expression: .dateRange(DateRange(from: "2020-04-01", to: "2020-04-30"))),
        ])
        let built = try searcher.search(Query(expression, analyzer: searcher.analyzer, compoundParts: searcher.compoundParts),
                                        options: SearchOptions(limit: 3_000))
        let parsed = try searcher.search("+Merkel -Söder date:2020-04", options: SearchOptions(limit: 3_000))
        #expect(!built.hits.isEmpty)
        #expect(built.hits.map(\.doc) == parsed.hits.map(\.doc))
    }

    @Test("queries that cannot run say why")
    func badQueries() throws {
        for (query, message) in [("und der die", "stop words"), ("-Merkel", "only excluded"), ("Merkel AND", "nothing on its right"),
                                 ("date:2020-13", "date"), ("\"Kim Jong", "never closed")] {
            #expect {
                _ = try searcher.search(query)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }
}
