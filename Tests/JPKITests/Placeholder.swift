// JPKITests
