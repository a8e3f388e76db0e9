import ArgumentParser
import Foundation
import Kidx

struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the index and print ranked hits with snippets.",
        discussion: """
        Words are matched after German analysis (Sanktionen = Sanktion, Straße = Strasse, \
        Pjoengjang = Pjöngjang, Trikot finds Fußballtrikot). The query syntax:
          Sanktionen Nordkorea        documents with both words first, then those with one
          Kim AND Trump, Kim OR Trump, Merkel NOT Seehofer, +Impfstoff -Russland, (a OR b) c
          "Kim Jong Un"               a phrase;  "Trump Kim"~5  the words within 5 moves
          Sanktion*   Pjöngjang~1     word forms starting with Sanktion; within one edit
          title:Gipfel  body:Gipfel   one field;  source:zeit.de  one outlet
          date:2020-03  date:2020-03-01..2020-04-30  date:>=2020-11  date:<2020-04
        """)

    @Argument(help: "The query.")
    var query: String

    @OptionGroup var indexOptions: IndexOptions

    @Option(name: .long, help: "Number of hits to show.")
    var limit = 10

    @Option(name: .long, help: "Number of hits to skip.")
    var offset = 0

    @Flag(name: .long, help: "Words without an operator must all match.")
    var and = false

    @Flag(name: .long, help: "Words without an operator: any may match (ranked by BM25).")
    var or = false

    @Option(name: .long, help: "Order of hits: score | date (newest first).")
    var sort: SearchOptions.Sort = .score

    @Flag(name: .long, help: "Show which analyzed terms matched and their BM25 contributions.")
    var explain = false

    @Flag(name: .long, help: "Print JSON (offsets in UTF-8 bytes and in Unicode code points).")
    var json = false

    func validate() throws {
        guard limit >= 0, offset >= 0 else { throw ValidationError("--limit and --offset must not be negative") }
        guard !(and && or) else { throw ValidationError("--and and --or exclude each other") }
    }

    func run() throws {
        try reportingErrors {
            let reader = try IndexReader(directory: indexOptions.index)
            let searcher = Searcher(reader: reader)
            let start = DispatchTime.now()
            let options = SearchOptions(limit: limit, offset: offset, mode: and ? .all : or ? .any : .allFirst, sort: sort, explains: explain)
            let results = try searcher.search(query, options: options)
            let micros = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1000
            json ? printJSON(results, micros: micros) : printText(results, micros: micros)
        }
    }

    private func printText(_ results: SearchResults, micros: Double) {
        print("\(Terminal.grouped(results.totalHits)) hit(s) for \(query) (\(String(format: "%.1f", micros / 1000)) ms)")
        for (rank, hit) in results.hits.enumerated() {
            guard let document = hit.document else { continue }
            let meta = [document.date.map { String($0.prefix(10)) }, document.source].compactMap { $0 }.joined(separator: " · ")
            print("")
            print("\(offset + rank + 1). \(marked(document.title, hit.titleHighlights))  [\(String(format: "%.2f", hit.score))]")
            print("   \(document.id)\(meta.isEmpty ? "" : " · " + meta)")
            if let snippet = hit.snippet { print("   \(marked(snippet.text, snippet.highlights))") }
            for part in hit.explanation ?? [] {
                print("     " + String(format: "%6.3f", part.score) + "  \(part.clause) → \(part.field.name):\(part.match)"
                      + (part.frequency > 0 ? " × " + String(format: "%g", part.frequency) : ""))
            }
        }
    }

    private func marked(_ text: String, _ ranges: [Range<Int>]) -> String {
        let bytes = Array(text.utf8)
        var output = ""
        var cursor = 0
        for range in ranges where range.lowerBound >= cursor && range.upperBound <= bytes.count {
            output += String(decoding: bytes[cursor..<range.lowerBound], as: UTF8.self)
            output += Terminal.bold(String(decoding: bytes[range], as: UTF8.self))
            cursor = range.upperBound
        }
        return output + String(decoding: bytes[cursor...], as: UTF8.self)
    }

    private func printJSON(_ results: SearchResults, micros: Double) {
        func spans(_ bytes: [Range<Int>], _ scalars: [Range<Int>]) -> [[String: Int]] {
            zip(bytes, scalars).map { ["byte_start": $0.lowerBound, "byte_end": $0.upperBound, "char_start": $1.lowerBound, "char_end": $1.upperBound] }
        }
        let hits: [[String: Any]] = results.hits.enumerated().map { rank, hit in
            var object: [String: Any] = ["rank": offset + rank + 1, "score": Double(hit.score)]
            if let document = hit.document {
                object["id"] = document.id
                object["title"] = document.title
                object["date"] = document.date ?? NSNull()
                object["url"] = document.url ?? NSNull()
                object["source"] = document.source ?? NSNull()
                let titleSnippet = Snippet(text: document.title, highlights: hit.titleHighlights)
                object["title_highlights"] = spans(hit.titleHighlights, titleSnippet.scalarHighlights)
            }
            if let snippet = hit.snippet {
                object["snippet"] = snippet.text
                object["highlights"] = spans(snippet.highlights, snippet.scalarHighlights)
            }
            if let explanation = hit.explanation {
                object["explanation"] = explanation.map {
                    ["clause": $0.clause, "field": $0.field.name, "match": $0.match, "frequency": Double($0.frequency), "score": Double($0.score)] as [String: Any]
                }
            }
            return object
        }
        Terminal.printJSON(["query": query, "total": results.totalHits, "took_us": micros, "hits": hits] as [String: Any])
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print one stored document by its id.")

    @Argument(help: "The document id (as search results show it).")
    var id: String

    @OptionGroup var indexOptions: IndexOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        try reportingErrors {
            let document = try IndexReader(directory: indexOptions.index).document(id: id)
            if json {
                Terminal.printJSON(["id": document.id, "title": document.title, "body": document.body, "date": document.date ?? NSNull(),
                                    "url": document.url ?? NSNull(), "source": document.source ?? NSNull()] as [String: Any])
            } else {
                print(document.title)
                let meta = [document.date, document.source, document.url].compactMap { $0 }
                if !meta.isEmpty { print(meta.joined(separator: " · ")) }
                print("")
                print(document.body)
            }
        }
    }
}

extension SearchOptions.Mode: ExpressibleByArgument {
    /// `any`, `all` or `all-first`, as `kidx eval --mode` takes them.
    public init?(argument: String) {
        switch argument {
        case "any", "or": self = .any
        case "all", "and": self = .all
        case "all-first": self = .allFirst
        default: return nil
        }
    }
}

extension SearchOptions.Sort: ExpressibleByArgument {}
