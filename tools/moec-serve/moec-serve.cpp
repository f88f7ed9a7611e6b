//===- moec-serve.cpp - an OpenAI-compatible server for one artifact -----===//
//
// POST /v1/chat/completions and /v1/completions (streamed as server-sent
// events with `stream: true`), GET /v1/models, /health and /metrics
// (Prometheus text). Up to --parallel answers decode together (continuous
// batching, runtime/Batcher.h) on one thread of their own; HTTP handlers
// hand requests to it and relay its text. A bounded queue answers 429
// past it (docs/serve.md).
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/Batcher.h"
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
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using json = nlohmann::json;

namespace {

struct Options {
  std::string path, host = "127.0.0.1", device = "auto", apiKey;
  int64_t port = 8080, threads = 0, maxSeqLen = 0, parallel = 4,
          queue = 16, prefillChunk = moec::Model::kDefaultPrefillChunk;
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

/// What the server counts, for /metrics (the batcher counts steps).
struct Metrics {
  std::atomic<int64_t> requests{0}, failed{0}, cancelled{0}, promptTokens{0},
      completionTokens{0};
};

/// What the batcher's thread hands a request's handler: text as it comes,
/// then the end.
struct Exchange {
  std::mutex lock;
  std::condition_variable changed;
  std::deque<std::string> pieces;
  bool done = false;
  moec::Status status;
  moec::Generation generation;
};

/// One request's generation settings, read from its JSON.
struct Request {
  std::vector<int32_t> input;
  moec::GenerationOptions generation;
  bool stream = false;
  /// stream_options.include_usage: a last event with the usage.
  bool includeUsage = false;
};

class Server {
public:
  Server(const Options &options, moec::Model &model, moec::Batcher &batcher,
         const moec::Tokenizer &tokenizer, const moec::ChatTemplate *chat,
         std::vector<int32_t> ends, std::string name)
      : options(options), model(model), batcher(batcher),
        tokenizer(tokenizer), chat(chat), ends(std::move(ends)),
        name(std::move(name)) {}

  void routes(httplib::Server &http);

private:
  bool authorized(const httplib::Request &req, httplib::Response &res);
  /// Reads the body common to both endpoints; false after replying.
  bool parse(const httplib::Request &req, httplib::Response &res,
             bool chatRequest, Request &out);
  void complete(const httplib::Request &req, httplib::Response &res,
                bool chatRequest);

  /// Queues `request`; `streamed`: its text goes to the exchange as it
  /// comes. Null when the queue is full.
  std::shared_ptr<Exchange> submit(const Request &request, bool streamed,
                                   std::shared_ptr<moec::BatchRequest> &out);

  const Options &options;
  moec::Model &model;
  moec::Batcher &batcher;
  const moec::Tokenizer &tokenizer;
  const moec::ChatTemplate *chat;
  std::vector<int32_t> ends;
  std::string name;
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
    if (body.contains("stream_options") && !body["stream_options"].is_null())
      out.includeUsage =
          body["stream_options"].value("include_usage", false);
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
  std::string id = (chatRequest ? "chatcmpl-" : "cmpl-") +
                   std::to_string(nextId++);
  long created = long(std::time(nullptr));
  const char *object = chatRequest ? "chat.completion" : "text_completion";
  auto usage = [](const moec::Generation &g) {
    int64_t completion = int64_t(g.tokens.size());
    return json{{"prompt_tokens", g.promptTokens},
                {"completion_tokens", completion},
                {"total_tokens", g.promptTokens + completion}};
  };
  std::shared_ptr<moec::BatchRequest> queued;
  std::shared_ptr<Exchange> exchange = submit(request, request.stream, queued);
  if (!exchange) {
    ++metrics.failed;
    reply(res, 429,
          apiError("the server is busy; try again", "server_error",
                   "rate_limit_exceeded"));
    return;
  }

  if (!request.stream) {
    std::unique_lock<std::mutex> lock(exchange->lock);
    exchange->changed.wait(lock, [&] { return exchange->done; });
    if (!exchange->status) {
      reply(res, 500, apiError(exchange->status.message(), "server_error"));
      return;
    }
    const moec::Generation &g = exchange->generation;
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
  bool withUsage = request.includeUsage;
  res.set_header("Cache-Control", "no-cache");
  // The provider runs after this handler returns: it holds copies only.
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, exchange, queued, id, created, chunkObject, chatRequest,
       withUsage, usage](size_t, httplib::DataSink &sink) {
        auto write = [&](const json &data) {
          std::string line =
              "data: " +
              data.dump(-1, ' ', false, json::error_handler_t::replace) +
              "\n\n";
          return sink.is_writable() && sink.write(line.data(), line.size());
        };
        auto chunk = [&](const std::string &text, const char *finish) {
          json event = {{"id", id}, {"object", chunkObject},
                        {"created", created}, {"model", name},
                        {"choices",
                         {choiceOf(chatRequest, text, finish, true)}}};
          if (withUsage)
            event["usage"] = nullptr;
          return write(event);
        };
        // Text as the batcher makes it; a client that went away cancels
        // its answer, whose sequence the next step frees.
        std::unique_lock<std::mutex> lock(exchange->lock);
        for (;;) {
          exchange->changed.wait_for(lock, std::chrono::milliseconds(500), [&] {
            return exchange->done || !exchange->pieces.empty();
          });
          bool gone = false;
          while (!exchange->pieces.empty() && !gone) {
            std::string text = std::move(exchange->pieces.front());
            exchange->pieces.pop_front();
            lock.unlock();
            gone = !chunk(text, nullptr);
            lock.lock();
          }
          if (gone || !sink.is_writable()) {
            queued->cancelled = true;
            sink.done();
            return true;
          }
          if (exchange->done)
            break;
        }
        const moec::Generation &g = exchange->generation;
        if (!exchange->status) {
          write(apiError(exchange->status.message(), "server_error"));
        } else {
          chunk("", finishReason(g.reason));
          if (withUsage)
            write({{"id", id}, {"object", chunkObject}, {"created", created},
                   {"model", name}, {"choices", json::array()},
                   {"usage", usage(g)}});
          std::string done = "data: [DONE]\n\n";
          sink.write(done.data(), done.size());
        }
        sink.done();
        return true;
      });
}

std::shared_ptr<Exchange>
Server::submit(const Request &request, bool streamed,
               std::shared_ptr<moec::BatchRequest> &out) {
  auto exchange = std::make_shared<Exchange>();
  auto queued = std::make_shared<moec::BatchRequest>();
  queued->prompt = request.input;
  queued->options = request.generation;
  queued->ends = ends;
  if (streamed)
    queued->onText = [exchange](const std::string &text) {
      {
        std::lock_guard<std::mutex> lock(exchange->lock);
        exchange->pieces.push_back(text);
      }
      exchange->changed.notify_all();
      return true;
    };
  queued->onDone = [this, exchange](const moec::Status &status,
                                    moec::Generation &g) {
    metrics.promptTokens += g.promptTokens;
    metrics.completionTokens += int64_t(g.tokens.size());
    if (!status)
      ++metrics.failed;
    else if (g.reason == moec::StopReason::Cancelled)
      ++metrics.cancelled;
    {
      std::lock_guard<std::mutex> lock(exchange->lock);
      exchange->status = status;
      exchange->generation = std::move(g);
      exchange->done = true;
    }
    exchange->changed.notify_all();
  };
  if (!batcher.submit(queued, options.queue))
    return nullptr;
  out = queued;
  return exchange;
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
    metric("moec_requests_cancelled_total", "counter",
           "Requests whose client went away before the answer ended.",
           double(metrics.cancelled.load()));
    metric("moec_queue_length", "gauge",
           "Requests waiting for a sequence of their own.",
           double(batcher.waiting()));
    metric("moec_sequences_running", "gauge",
           "Answers in the batch (at most --parallel).",
           double(batcher.running()));
    moec::BatcherStats stats = batcher.stats();
    metric("moec_steps_total", "counter",
           "Calls of the model, each a batch of sequences.",
           double(stats.steps));
    metric("moec_step_seconds_total", "counter",
           "Seconds spent in the calls of the model.", stats.stepSeconds);
    metric("moec_step_seconds", "gauge", "Mean time of a step so far.",
           stats.steps ? stats.stepSeconds / double(stats.steps) : 0.0);
    metric("moec_batch_decode_tokens_total", "counter",
           "Tokens decoded in the steps (a token of each answer a step).",
           double(stats.decodeTokens));
    metric("moec_batch_prompt_tokens_total", "counter",
           "Prompt tokens read in the steps.", double(stats.promptTokens));
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
               "an address", moec::nonEmpty(o.host));
  parser.value("port", "n", "Port (default 8080)", "a port",
               moec::countIn(o.port, 1, 65535));
  parser.value("api-key", "key",
               "Answer only requests with 'Authorization: Bearer KEY'",
               "a key", moec::nonEmpty(o.apiKey));
  parser.value("parallel", "n",
               "Answers decoded together, each with its own KV cache of "
               "--max-seq-len positions (default 4)",
               "a count from 1 to 256", moec::countIn(o.parallel, 1, 256));
  parser.value("prefill-chunk", "n",
               "Prompt tokens a step reads beside the others' decode tokens "
               "(default " +
                   std::to_string(o.prefillChunk) +
                   "): a larger chunk reads prompts faster, a smaller one "
                   "holds up the other answers less",
               "a positive count", moec::countIn(o.prefillChunk, 1, INT32_MAX));
  parser.value("queue", "n", "Requests that may wait; more get 429 (16)",
               "a count", moec::countIn(o.queue, 0, 4096));
  moec::deviceOptions(parser, o.device, o.threads, o.maxSeqLen);
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
    o.maxSeqLen = std::min<int64_t>(config.max_position_embeddings(),
                                    moec::kDefaultMaxSeqLen);
  if (config.head() != moec::artifact::Head::CausalLM)
    return parser.failure(o.path + ": the server needs a causal language "
                                   "model head");
  std::unique_ptr<moec::Model> model;
  if (moec::Status s = moec::openModel(artifact, o.device, o.maxSeqLen, model,
                                       o.parallel);
      !s)
    return parser.failure(s);
  if (o.threads)
    if (moec::Status s = model->setThreads(int(o.threads)); !s)
      return parser.failure(s);
  if (moec::Status s = model->setPrefillChunk(o.prefillChunk); !s)
    return parser.failure(s);
  // A step holds a token of each answer and at least one of a prompt.
  if (o.parallel >= model->maxTokensPerRun())
    return parser.usageError(
        "--parallel " + std::to_string(o.parallel) + " leaves no room in a " +
        "step of the " + model->device() + " backend (at most " +
        std::to_string(model->maxTokensPerRun()) + " tokens a call)");
  std::vector<int32_t> ends = moec::endTokens(
      config, tokenizer.get(), haveChat ? format.endOfAnswer() : -1);
  std::string name = o.path.substr(o.path.find_last_of('/') + 1);

  // SIGTERM and SIGINT stop the server: in-flight requests finish first.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  moec::Batcher batcher(*model, tokenizer.get(), o.path);
  std::thread batching([&] { batcher.run(); });
  httplib::Server http;
  // A handler thread for every answer that may run or wait (up to 256;
  // connections past them wait to be accepted), and a few for the other
  // endpoints.
  size_t handlers = size_t(std::min<int64_t>(o.parallel + o.queue, 256) + 4);
  http.new_task_queue = [handlers] { return new httplib::ThreadPool(handlers); };
  Server server(o, *model, batcher, *tokenizer, haveChat ? &format : nullptr,
                ends, name);
  server.routes(http);
  auto stopBatching = [&] {
    batcher.stop(/*cancel=*/false);
    batching.join();
  };
  if (!http.bind_to_port(o.host, int(o.port))) {
    stopBatching();
    return parser.failure(moec::Status::error(
        "cannot listen on %s:%lld", o.host.c_str(), (long long)o.port));
  }
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&stopSignals, &signal);
    http.stop();
  });
  std::fprintf(stderr, "moec-serve: %s on the %s backend, %lld sequences "
                       "of %lld positions, listening on http://%s:%lld\n",
               o.path.c_str(), model->device().c_str(), (long long)o.parallel,
               (long long)o.maxSeqLen, o.host.c_str(), (long long)o.port);
  // Returns once stopped and every handler has ended: the answers in
  // flight finish first.
  http.listen_after_bind();
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  stopBatching();
  std::fprintf(stderr, "moec-serve: stopped\n");
  return 0;
}
