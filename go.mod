module github.com/sessionauth/session

go 1.26.0

require github.com/gorilla/securecookie v1.1.2
