//===- moec-serve.cpp - an OpenAI-compatible server for one artifact -----===//
//
// POST /v1/chat/completions and /v1/completions (streamed as server-sent
// events with `stream: true`), GET /v1/models, /health and /metrics
// (Prometheus text). Requests run one at a time on the model, in arrival
// order; a bounded queue answers 429 past it. Continuous batching of
// several sequences is not built yet (docs/serve.md).
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/ChatTemplate.h"
#include "runtime/CommandLine.h"
#include "runtime/Generator.h"
#include "runtime/Model.h"
#include "runtime/Tokenizer.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using json = nlohmann::json;

namespace {

struct Options {
  std::string path, host = "127.0.0.1", device = "auto", apiKey;
  int64_t port = 8080, threads = 0, maxSeqLen = 0, parallel = 1,
          queue = 16;
};

/// An error in the API's format.
json apiError(const std::string &message, const std::string &type,
              const std::string &code = "") {
  json error = {{"message", message}, {"type", type}, {"param", nullptr},
                {"code", code.empty() ? json(nullptr) : json(code)}};
  return {{"error", error}};
}

void reply(httplib::Response &res, int status, const json &body) {
  res.status = status;
  res.set_content(
      body.dump(-1, ' ', false, json::error_handler_t::replace),
      "application/json");
}

/// What the server counts, for /metrics.
struct Metrics {
  std::atomic<int64_t> requests{0}, failed{0}, promptTokens{0},
      completionTokens{0}, waiting{0}, decodeSteps{0};
  std::atomic<double> decodeSeconds{0};
};

/// One request's generation settings, read from its JSON.
struct Request {
  std::vector<int32_t> input;
  moec::GenerationOptions generation;
  bool stream = false;
};

class Server {
public:
  Server(const Options &options, moec::Model &model,
         const moec::Tokenizer &tokenizer, const moec::ChatTemplate *chat,
         std::vector<int32_t> ends, std::string name)
      : options(options), model(model), tokenizer(tokenizer), chat(chat),
        ends(std::move(ends)), name(std::move(name)) {}

  void routes(httplib::Server &http);

private:
  bool authorized(const httplib::Request &req, httplib::Response &res);
  /// Reads the body common to both endpoints; false after replying.
  bool parse(const httplib::Request &req, httplib::Response &res,
             bool chatRequest, Request &out);
  void complete(const httplib::Request &req, httplib::Response &res,
                bool chatRequest);

  const Options &options;
  moec::Model &model;
  const moec::Tokenizer &tokenizer;
  const moec::ChatTemplate *chat;
  std::vector<int32_t> ends;
  std::string name;
  std::mutex modelLock;
  Metrics metrics;
  std::atomic<int64_t> nextId{1};
};

bool Server::authorized(const httplib::Request &req, httplib::Response &res) {
  if (options.apiKey.empty() ||
      req.get_header_value("Authorization") == "Bearer " + options.apiKey)
    return true;
  reply(res, 401,
        apiError("Incorrect API key provided.", "invalid_request_error",
                 "invalid_api_key"));
  return false;
}

bool Server::parse(const httplib::Request &req, httplib::Response &res,
                   bool chatRequest, Request &out) {
  auto bad = [&](const std::string &message, const std::string &code = "") {
    reply(res, 400, apiError(message, "invalid_request_error", code));
    return false;
  };
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object())
    return bad("the body is not a JSON object");
  static const std::set<std::string> known = {
      "model", "messages", "prompt", "max_tokens", "max_completion_tokens",
      "temperature", "top_p", "seed", "stop", "n", "stream",
      "stream_options", "user", "frequency_penalty", "presence_penalty"};
  for (auto &[key, value] : body.items())
    if (!known.count(key))
      return bad("unknown field '" + key + "'", "unknown_field");
  std::string text;
  try {
    if (body.contains("n") && body["n"].get<int64_t>() != 1)
      return bad("only n = 1 is supported");
    for (const char *penalty : {"frequency_penalty", "presence_penalty"})
      if (body.contains(penalty) && body[penalty].get<double>() != 0)
        return bad(std::string(penalty) + " is not supported");
    if (chatRequest) {
      if (!chat)
        return bad("the model has no chat template");
      const json &messages = body.at("messages");
      if (!messages.is_array() || messages.empty())
        return bad("'messages' must be a non-empty list");
      std::string system;
      bool first = true, closed = true;
      for (const json &m : messages) {
        std::string role = m.at("role").get<std::string>();
        std::string content = m.at("content").get<std::string>();
        if (role == "system") {
          system = content;
        } else if (role == "user") {
          text += chat->userTurn(content, system, first, closed);
          first = false;
          closed = true;
        } else if (role == "assistant") {
          text += content;
          closed = false;
        } else {
          return bad("unknown role '" + role + "'");
        }
      }
      if (messages.back().at("role") != "user")
        return bad("the last message must be the user's");
    } else {
      text = body.at("prompt").get<std::string>();
    }
    moec::GenerationOptions &g = out.generation;
    g.sampling.temperature = body.value("temperature", 1.0f);
    g.sampling.topP = body.value("top_p", 1.0f);
    g.sampling.seed = body.value("seed", uint64_t(0));
    if (body.contains("stop")) {
      const json &stop = body["stop"];
      if (stop.is_string())
        g.stops.push_back(stop.get<std::string>());
      else if (!stop.is_null())
        g.stops = stop.get<std::vector<std::string>>();
    }
    out.stream = body.value("stream", false);
    int64_t budget = -1;
    for (const char *key : {"max_tokens", "max_completion_tokens"})
      if (body.contains(key) && !body[key].is_null())
        budget = body[key].get<int64_t>();
    if (tokenizer.addsBos() && tokenizer.bos() >= 0)
      out.input.push_back(tokenizer.bos());
    tokenizer.encode(text, out.input);
    int64_t room = model.maxSeqLen() - int64_t(out.input.size());
    if (room <= 0)
      return bad("the prompt has " + std::to_string(out.input.size()) +
                     " tokens; the context holds " +
                     std::to_string(model.maxSeqLen()),
                 "context_length_exceeded");
    if (budget > room)
      return bad("max_tokens " + std::to_string(budget) + " is more than the " +
                     std::to_string(room) + " positions the context has left",
                 "context_length_exceeded");
    if (budget < 0)
      budget = room;
    g.maxNewTokens = budget;
  } catch (const json::exception &e) {
    return bad(std::string("a field has the wrong type or is missing: ") +
               e.what());
  }
  return true;
}

/// A piece of text as the API shapes a choice: a chat message (or, in a
/// stream, its delta) or a completion's text.
json choiceOf(bool chatRequest, const std::string &text, const char *finish,
              bool delta) {
  json c = {{"index", 0}, {"finish_reason", finish ? json(finish) : json()}};
  if (chatRequest)
    c[delta ? "delta" : "message"] = {{"role", "assistant"},
                                      {"content", text}};
  else
    c["text"] = text;
  return c;
}

const char *finishReason(moec::StopReason reason) {
  switch (reason) {
  case moec::StopReason::Eos:
  case moec::StopReason::Stop:
  case moec::StopReason::Cancelled:
    return "stop";
  case moec::StopReason::Length:
  case moec::StopReason::Context:
    break;
  }
  return "length";
}

void Server::complete(const httplib::Request &req, httplib::Response &res,
                      bool chatRequest) {
  ++metrics.requests;
  if (!authorized(req, res)) {
    ++metrics.failed;
    return;
  }
  Request request;
  if (!parse(req, res, chatRequest, request)) {
    ++metrics.failed;
    return;
  }
  if (metrics.waiting.load() >= options.queue) {
    ++metrics.failed;
    reply(res, 429,
          apiError("the server is busy; try again", "server_error",
                   "rate_limit_exceeded"));
    return;
  }
  std::string id = (chatRequest ? "chatcmpl-" : "cmpl-") +
                   std::to_string(nextId++);
  long created = long(std::time(nullptr));
  const char *object = chatRequest ? "chat.completion" : "text_completion";
  auto usage = [&](const moec::Generation &g) {
    int64_t completion = int64_t(g.tokens.size());
    return json{{"prompt_tokens", g.promptTokens},
                {"completion_tokens", completion},
                {"total_tokens", g.promptTokens + completion}};
  };
  // Runs the request on the model; `onText` may cancel.
  auto run = [this, request](const moec::Generator::TextFn &onText,
                             moec::Generation &g) {
    ++metrics.waiting;
    std::lock_guard<std::mutex> lock(modelLock);
    --metrics.waiting;
    model.reset();
    moec::Generator generator(model, &tokenizer, request.generation);
    moec::Status status =
        generator.generate(request.input, ends, g, onText, options.path);
    metrics.promptTokens += g.promptTokens;
    metrics.completionTokens += int64_t(g.tokens.size());
    metrics.decodeSteps += g.decodeSteps;
    double seconds = metrics.decodeSeconds.load();
    while (!metrics.decodeSeconds.compare_exchange_weak(
        seconds, seconds + g.decodeSeconds))
      ;
    return status;
  };

  if (!request.stream) {
    moec::Generation g;
    moec::Status status = run(nullptr, g);
    if (!status) {
      ++metrics.failed;
      reply(res, 500, apiError(status.message(), "server_error"));
      return;
    }
    reply(res, 200,
          {{"id", id}, {"object", object}, {"created", created},
           {"model", name},
           {"choices",
            {choiceOf(chatRequest, g.text, finishReason(g.reason), false)}},
           {"usage", usage(g)}});
    return;
  }
  std::string chunkObject =
      chatRequest ? "chat.completion.chunk" : "text_completion";
  res.set_header("Cache-Control", "no-cache");
  // The provider runs after this handler returns: it holds copies only.
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, run, id, created, chunkObject, chatRequest](
          size_t, httplib::DataSink &sink) {
        auto event = [&](const json &data) {
          std::string line =
              "data: " +
              data.dump(-1, ' ', false, json::error_handler_t::replace) +
              "\n\n";
          return sink.write(line.data(), line.size());
        };
        auto chunk = [&](const std::string &text, const char *finish) {
          return event({{"id", id}, {"object", chunkObject},
                        {"created", created}, {"model", name},
                        {"choices",
                         {choiceOf(chatRequest, text, finish, true)}}});
        };
        moec::Generation g;
        // A client that went away cancels its generation at once.
        moec::Status status = run(
            [&](const std::string &text) { return chunk(text, nullptr); }, g);
        if (status && g.reason != moec::StopReason::Cancelled) {
          chunk("", finishReason(g.reason));
          std::string done = "data: [DONE]\n\n";
          sink.write(done.data(), done.size());
        } else if (!status) {
          ++metrics.failed;
          event(apiError(status.message(), "server_error"));
        }
        sink.done();
        return true;
      });
}

void Server::routes(httplib::Server &http) {
  http.Get("/health", [](const httplib::Request &, httplib::Response &res) {
    reply(res, 200, {{"status", "ok"}});
  });
  http.Get("/v1/models",
           [this](const httplib::Request &req, httplib::Response &res) {
             if (!authorized(req, res))
               return;
             reply(res, 200,
                   {{"object", "list"},
                    {"data",
                     {{{"id", name},
                       {"object", "model"},
                       {"created", 0},
                       {"owned_by", "moec"}}}}});
           });
  http.Post("/v1/chat/completions",
            [this](const httplib::Request &req, httplib::Response &res) {
              complete(req, res, /*chatRequest=*/true);
            });
  http.Post("/v1/completions",
            [this](const httplib::Request &req, httplib::Response &res) {
              complete(req, res, /*chatRequest=*/false);
            });
  http.Get("/metrics", [this](const httplib::Request &,
                              httplib::Response &res) {
    std::string text;
    auto metric = [&](const char *name, const char *type, const char *help,
                      double value) {
      char line[512];
      std::snprintf(line, sizeof(line),
                    "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name,
                    type, name, value);
      text += line;
    };
    metric("moec_requests_total", "counter", "Completion requests received.",
           double(metrics.requests.load()));
    metric("moec_requests_failed_total", "counter",
           "Requests answered with an error.", double(metrics.failed.load()));
    metric("moec_prompt_tokens_total", "counter", "Prompt tokens read.",
           double(metrics.promptTokens.load()));
    metric("moec_completion_tokens_total", "counter", "Tokens generated.",
           double(metrics.completionTokens.load()));
    metric("moec_queue_length", "gauge", "Requests waiting for the model.",
           double(metrics.waiting.load()));
    int64_t steps = metrics.decodeSteps.load();
    metric("moec_decode_step_seconds", "gauge",
           "Mean time of a decode step so far.",
           steps ? metrics.decodeSeconds.load() / double(steps) : 0.0);
    res.set_content(text, "text/plain; version=0.0.4");
  });
  http.set_error_handler([](const httplib::Request &, httplib::Response &res) {
    if (res.body.empty())
      reply(res, res.status,
            apiError("no such endpoint or method", "invalid_request_error"));
  });
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  moec::OptionParser parser(
      "moec-serve", "MODEL.moec",
      "An OpenAI-compatible HTTP server for one artifact");
  parser.positional("model", o.path);
  parser.group("Server");
  parser.value("host", "addr", "Address to listen on (default 127.0.0.1)",
               "an address", [&](const std::string &v) {
                 o.host = v;
                 return !v.empty();
               });
  parser.value("port", "n", "Port (default 8080)", "a port",
               moec::countIn(o.port, 1, 65535));
  parser.value("api-key", "key",
               "Answer only requests with 'Authorization: Bearer KEY'",
               "a key", [&](const std::string &v) {
                 o.apiKey = v;
                 return !v.empty();
               });
  parser.value("parallel", "n",
               "Sequences decoded together (1: batching is not built yet)",
               "1", moec::countIn(o.parallel, 1, 1));
  parser.value("queue", "n", "Requests that may wait; more get 429 (16)",
               "a count", moec::countIn(o.queue, 0, 4096));
  parser.group("Device");
  parser.value("device", "d", "auto (the artifact's target), cpu or cuda",
               "auto, cpu or cuda",
               moec::oneOf(o.device, {"auto", "cpu", "cuda"}));
  parser.value("threads", "n", "Threads for the generated CPU code",
               "a positive count", moec::countIn(o.threads, 1, 4096));
  parser.value("max-seq-len", "n",
               "KV cache positions (default: the model's maximum, at most "
               "4096)",
               "a positive count", moec::countIn(o.maxSeqLen, 1, INT32_MAX));
  if (int code = parser.parse(argc, argv); code >= 0)
    return code;
  if (o.path.empty())
    return parser.usageError("no model given");

  moec::Artifact artifact;
  if (moec::Status s = moec::Artifact::open(o.path, artifact); !s)
    return parser.failure(s);
  std::unique_ptr<moec::Tokenizer> tokenizer;
  if (moec::Status s = moec::Tokenizer::load(artifact, tokenizer); !s)
    return parser.failure(s);
  moec::ChatTemplate format;
  bool haveChat = bool(moec::ChatTemplate::get("auto", *tokenizer, o.path,
                                               format));
  const auto &config = *artifact.header().config();
  if (o.maxSeqLen == 0)
    o.maxSeqLen = std::min<int64_t>(config.max_position_embeddings(), 4096);
  std::unique_ptr<moec::Model> model;
  if (moec::Status s = moec::openModel(artifact, o.device, o.maxSeqLen, model);
      !s)
    return parser.failure(s);
  if (o.threads)
    if (moec::Status s = model->setThreads(int(o.threads)); !s)
      return parser.failure(s);
  std::vector<int32_t> ends = moec::endTokens(
      config, tokenizer.get(), haveChat ? format.endOfAnswer() : -1);
  std::string name = o.path.substr(o.path.find_last_of('/') + 1);

  // SIGTERM and SIGINT stop the server: in-flight requests finish first.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  httplib::Server http;
  Server server(o, *model, *tokenizer, haveChat ? &format : nullptr, ends,
                name);
  server.routes(http);
  if (!http.bind_to_port(o.host, int(o.port)))
    return parser.failure(moec::Status::error(
        "cannot listen on %s:%lld", o.host.c_str(), (long long)o.port));
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&stopSignals, &signal);
    http.stop();
  });
  std::fprintf(stderr, "moec-serve: %s on the %s backend, listening on "
                       "http://%s:%lld\n",
               o.path.c_str(), model->device().c_str(), o.host.c_str(),
               (long long)o.port);
  http.listen_after_bind();
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  std::fprintf(stderr, "moec-serve: stopped\n");
  return 0;
}
