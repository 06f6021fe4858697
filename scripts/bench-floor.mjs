// The floors of `npm run bench`: the least a framework stack costs for an authenticated read,
// measured next to the API. `node scripts/bench-floor.mjs fastify|nest` listens on PORT and
// answers GET /me with the user named by a bearer token that passport-jwt verifies (HS256 with a
// KeyObject made from FLOOR_SECRET, issuer and audience checked) and nothing else: no database,
// no session or role check, no security headers, no logging.
//   fastify  Fastify + passport + passport-jwt (a preHandler)
//   nest     Nest 12 on Fastify + @nestjs/passport's AuthGuard('jwt') + passport-jwt
import 'reflect-metadata';

import { createSecretKey } from 'node:crypto';

import { Controller, Get, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import Fastify from 'fastify';
import passport from 'passport';
import { ExtractJwt, Strategy } from 'passport-jwt';

const options = {
  jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
  secretOrKey: createSecretKey(Buffer.from(process.env.FLOOR_SECRET, 'utf8')),
  algorithms: ['HS256'],
  issuer: 'bench',
  audience: 'bench',
};
const userOf = (payload) => ({ id: payload.sub, email: 'floor@bench.example', role: 'user' });
const port = Number(process.env.PORT);

if (process.argv[2] === 'fastify') {
  passport.use(new Strategy(options, (payload, done) => done(null, userOf(payload))));
  const app = Fastify();
  const authenticate = (request, reply, done) =>
    passport.authenticate('jwt', { session: false }, (error, user) => {
      if (error || !user) return void reply.code(401).send({ statusCode: 401 });
      request.user = user;
      done();
    })(request.raw, reply.raw, done);
  app.get('/me', { preHandler: authenticate }, (request, reply) => reply.send(request.user));
  await app.listen({ port, host: '127.0.0.1' });
} else {
  // The decorators a TypeScript controller would carry, applied by hand (this file is not compiled).
  class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
    constructor() {
      super(options);
    }
    validate(payload) {
      return userOf(payload);
    }
  }
  Reflect.decorate([Injectable()], JwtStrategy);
  class MeController {
    me(request) {
      return request.user;
    }
  }
  Req()(MeController.prototype, 'me', 0);
  Reflect.decorate(
    [Get('me'), UseGuards(AuthGuard('jwt'))],
    MeController.prototype,
    'me',
    Object.getOwnPropertyDescriptor(MeController.prototype, 'me'),
  );
  Reflect.decorate([Controller()], MeController);
  class FloorModule {}
  Reflect.decorate(
    [Module({ imports: [PassportModule], controllers: [MeController], providers: [JwtStrategy] })],
    FloorModule,
  );
  const app = await NestFactory.create(FloorModule, new FastifyAdapter(), { logger: false });
  await app.listen(port, '127.0.0.1');
}
