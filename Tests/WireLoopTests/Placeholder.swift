import XCTest
final class PlaceholderWireLoopTests: XCTestCase { func testNothing() {} }
