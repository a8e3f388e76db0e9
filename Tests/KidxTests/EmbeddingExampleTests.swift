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
    return results.hits.compactMap { $0.document?.id }
}
// README example ends

@Test("the README's embedding example compiles and finds the document")
func embeddingExample() throws {
    let folder = try TestSupport.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    #expect(try searchExample(indexFolder: folder) == ["1"])
}
