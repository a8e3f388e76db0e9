import Foundation
import Testing

// The README's embedding example, compiled and run here so that it stays true.
// README example begins
import Kidx

func searchExample(indexFolder: String) throws -> [String] {
    let writer = try IndexWriter(directory: indexFolder)
    try writer.add(Document(id: "1", title: "Neue Sanktionen", body: "Die EU verhängt Sanktionen gegen Nord-Korea."))
    try writer.add(Document(id: "2", title: "Bundesliga", body: "Der Spieltag am Wochenende."))
    try writer.commit()

    let searcher = Searcher(reader: try IndexReader(directory: indexFolder))
    let results = try searcher.search("Sanktion Nordkorea", options: SearchOptions(limit: 10))
    // The same query built in code: `QueryExpression` is the syntax tree the parser produces.
    let built = try Query(.group([QueryClause(occur: .must, expression: .word("Sanktion", field: nil)),
                                  QueryClause(occur: .should, expression: .word("Nordkorea", field: nil))]),
                          analyzer: searcher.analyzer, compoundParts: searcher.compoundParts)
    let more = try searcher.search(built, options: SearchOptions(limit: 10, sort: .date))
    return (results.hits + more.hits).compactMap { $0.document?.id }
}
// README example ends

@Test("the README's embedding example compiles and finds the document")
func embeddingExample() throws {
    let folder = try TestSupport.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    #expect(try searchExample(indexFolder: folder) == ["1", "1"], "the parsed and the built query both find it")
}
