-- shop.lua: an example user-style scenario: browse, look at items, sometimes buy.
--
--   ./volley -s scripts/examples/shop.lua -u 50 -r 5 -d 2m https://shop.example.test
options = {
    users = 10,
    spawn_rate = 2,
    duration = "1m",
    thresholds = { "success >= 99%", "p95 < 500ms" },
}

local Shopper = user { weight = 4, wait = between(1, 3) }

Shopper:task(5, "browse", function(self)
    local r = self:get("/")
    check(r, "home page", r.status == 200)
end)

Shopper:task(3, "item", function(self)
    local id = math.floor(self:random() * 100) + 1
    local r = self:get("/items/" .. id) -- grouped as "GET /items/:id"
    check(r, "item found", r.status == 200)
end)

Shopper:task(1, "buy", function(self)
    local r = self:post("/cart", { json = { item = 1, quantity = 1 }, name = "cart: add" })
    check(r, "added to cart", r.status < 400)
end)

local Admin = user { weight = 1, wait = constant(5) }

Admin:task("health", function(self)
    self:get("/health", { expect = { 200, 204 } })
end)
