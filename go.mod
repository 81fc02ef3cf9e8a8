module github.com/vigil-ids/vigil

go 1.26.8
